// Transfers (R21-R23, R30, R32): the inbox of what is due, the application with its materials checklist,
// and one case on one page (history, materials, deadline) with the decisions that are this operator's.
(function () {
  "use strict";
  const wb = window.XUEJI_WB;
  const { el, t } = wb;
  const STAGES = ["receiving_school", "receiving_bureau", "sending_school", "sending_bureau"];

  const leftText = (n) => (n === null || n === undefined ? "—" : n < 0 ? t("days_late", { n: -n }) : n === 0 ? t("today") : String(n));
  // The readable case number beside the internal id; cases numbered before numbers travelled show the id only.
  const caseLabel = (c) => (c.case_number ? `${c.case_number} · ${c.transfer_id}` : c.transfer_id);

  // ---- the inbox: what is due here, in working days, most urgent first --------------------------------
  wb.view("inbox", { tab: "tab_inbox", render: async (main) => {
    const code = wb.code();
    const [todos, notes, stages] = await Promise.all([
      wb.api("transfer", "/v1/inbox"),
      wb.api("notify", "/v1/inbox", { query: { current: true, limit: 300 } }),  // one line a stage, deadline or review
      wb.api("notify", "/v1/dashboard/stages", { query: { node: wb.state.claims.role === "school" ? code : code.replace(/0+$/, "") || code, limit: 1000 } }),
    ]);
    if (!todos.ok || !notes.ok) { wb.say(wb.failure(todos.ok ? notes : todos), "error"); }
    const left = new Map(((stages.ok && stages.body.stages) || []).map((s) => [`${s.transfer_id}:${s.stage}`, s]));
    const items = [];
    for (const todo of (todos.ok && todos.body.items) || []) {
      const s = todo.stage ? left.get(`${todo.transfer_id}:${todo.stage}`) : null;
      items.push({ kind: "todo", id: todo.todo_id, title: `${t(`a_${todo.action}`)}${todo.stage ? ` · ${t(`s_${todo.stage}`)}` : ""}`,
        subject: caseLabel(todo), href: `#/case/${encodeURIComponent(todo.transfer_id)}`,
        due: todo.open_stage ? todo.open_stage.due_at : null, left: s ? s.working_days_left : null, state: s ? s.state : "open" });
    }
    // A bureau's list is what is filed to the bureau: its schools' own notices (R02 files, R54 rosters, records made,
    // their stages) are theirs, and a deadline of theirs reaches this list once overdue and flagged here (a copy filed
    // to this bureau), a stage once escalated. They are counted and shown on request.
    const schoolsOwn = (n) => wb.role() !== "school" && n.jurisdiction !== code;
    const allNotes = (notes.ok && notes.body.notifications) || [];
    const hidden = wb.state.showSchoolTasks ? 0 : allNotes.filter(schoolsOwn).length;
    for (const n of allNotes) {
      if (!n.due_at && n.severity === "info" && n.read) continue;
      if (!wb.state.showSchoolTasks && schoolsOwn(n)) continue;
      items.push({ kind: n.kind, id: n.notification_id, title: wb.withNames(wb.pick(n.title_zh, n.title_en)), subject: caseLabel({ case_number: (n.details || {}).case_number, transfer_id: n.subject_id }),
        href: n.transfer_id ? `#/case/${encodeURIComponent(n.transfer_id)}` : rosterLink(n), due: n.due_at || null,
        left: n.working_days_left ?? null, state: n.severity, read: n.read, note: n });
    }
    const rank = (i) => (i.left === null || i.left === undefined ? 10_000 : i.left);
    items.sort((a, b) => rank(a) - rank(b) || String(a.due || "~").localeCompare(String(b.due || "~")));
    const tbody = el("tbody");
    for (const i of items) {
      const link = i.href ? el("a", { href: i.href, text: i.title }) : el("span", { text: i.title });
      const tr = el("tr", { class: i.read === false ? "unread" : "", dataset: { kind: i.kind, id: i.id } },
        el("td", {}, link), el("td", { class: "case-no", text: i.subject || "" }), el("td", { text: wb.fmtDueDay(i.due) }),
        el("td", { class: `num ${i.left !== null && i.left < 0 ? "late" : i.left !== null && i.left <= 2 ? "warn" : ""}`, text: leftText(i.left) }));
      tr.append(el("td", {}, ...(i.note ? noteActions(i, tr) : [])));
      tbody.append(tr);
    }
    const table = el("table", { class: "grid", id: "inbox-table" }, el("caption", { class: "visually-hidden", text: t("inbox_title") }),
      el("thead", {}, el("tr", {}, ...["c_item", "c_subject", "c_due", "c_left", "c_read"].map((k) => el("th", { scope: "col", text: t(k) })))), tbody);
    main.append(el("section", { class: "panel" }, el("div", { class: "toolbar" }, el("h2", { text: t("inbox_title") }),
      wb.exportButtons("inbox", () => [[t("c_item"), t("c_subject"), t("c_due"), t("c_left")],
        ...items.map((i) => [i.title, i.subject || "", wb.fmtDueDay(i.due), leftText(i.left)])])),
      schoolTasksToggle(hidden),
      items.length ? el("div", { class: "scroll" }, table) : el("p", { class: "muted", text: t("inbox_empty") })));
  } });

  // Shown to a bureau only: how many of its schools' own deadlines are left out, and a switch to list them too.
  function schoolTasksToggle(hidden) {
    if (wb.role() === "school" || (!hidden && !wb.state.showSchoolTasks)) return null;
    const box = wb.input({ type: "checkbox", id: "school-tasks", checked: Boolean(wb.state.showSchoolTasks) });
    box.addEventListener("change", () => { wb.state.showSchoolTasks = box.checked; wb.route(); });
    const label = el("label", { for: "school-tasks", text: wb.state.showSchoolTasks ? t("school_tasks_shown") : t("school_tasks_hidden", { n: hidden }) });
    return el("p", { class: "muted school-tasks" }, box, label);
  }

  // A graduation roster to review (R46) opens on the county's roster page; its subject is the roster's stream.
  function rosterLink(n) {
    const m = /^graduation:(\d{10}):(\d{4}):(junior|senior)$/.exec(n.subject_id || "");
    return m && wb.role() === "county" ? `#/rosters/${m[1]}/${m[2]}/${m[3]}` : null;
  }

  // An escalation is acknowledged for the jurisdiction (the first one stands, named with when); any other note is
  // marked read by this operator. Both are kept by notify, so the unread badge drops and stays down.
  const ESCALATIONS = ["stage_escalated", "stage_breached"];
  function noteActions(i, tr) {
    const n = i.note;
    const ackText = (doc) => t("acknowledged", { by: doc.acknowledged_by || "", at: wb.fmtTime(doc.acknowledged_at) });
    if (ESCALATIONS.includes(n.kind) && n.acknowledged_at) return [el("span", { class: "muted ack", text: ackText(n) })];
    if (ESCALATIONS.includes(n.kind)) {
      const ack = el("button", { type: "button", class: "ack", text: t("acknowledge"), "aria-label": `${t("acknowledge")}: ${i.title}` });
      ack.addEventListener("click", async () => {
        const done = await wb.api("notify", `/v1/inbox/${encodeURIComponent(i.id)}/acknowledge`, { method: "POST" });
        if (!done.ok) { wb.say(wb.failure(done), "error"); return; }
        tr.classList.remove("unread");
        ack.replaceWith(el("span", { class: "muted ack", text: ackText(done.body) }));
        wb.refreshAlerts();
      });
      return [ack];
    }
    if (i.read) return [];
    const mark = el("button", { type: "button", text: t("mark_read"), "aria-label": `${t("mark_read")}: ${i.title}` });
    mark.addEventListener("click", async () => {
      const done = await wb.api("notify", `/v1/inbox/${encodeURIComponent(i.id)}/read`, { method: "POST" });
      if (!done.ok) { wb.say(wb.failure(done), "error"); return; }
      tr.classList.remove("unread"); mark.remove(); wb.refreshAlerts();
    });
    return [mark];
  }

  // ---- apply for a transfer (step 1) with the province's materials checklist ---------------------------
  wb.view("apply", { tab: "tab_apply", roles: ["school"], render(main) {
    const policy = wb.state.config.policy;
    const grade = wb.input({ type: "number", min: "1", max: "12", value: "4", required: true });
    const reason = wb.el("select", { required: true });
    const moved = wb.select([["", t("not_applicable")], ["both_parents", t("gm_both_parents")], ["other_guardian", t("gm_other_guardian")], ["one_parent", t("gm_one_parent")]]);
    function fillReasons() {
      const stage = Number(grade.value) >= 10 ? "senior_high" : "compulsory";
      reason.replaceChildren(...(policy.reasons[stage] || []).map((r) => el("option", { value: r.code, text: `${r.clause ? `${r.clause} ` : ""}${wb.pick(r.zh, r.en)}` })));
    }
    grade.addEventListener("change", fillReasons);
    fillReasons();
    const today = new Date().toISOString().slice(0, 10);
    const checklist = el("ul", { class: "checklist", id: "materials" });
    for (const m of policy.materials) {
      const id = `mat-${m.kind}`;
      const box = wb.input({ type: "checkbox", id, name: "material", value: m.kind });
      const fileInput = wb.input({ type: "file", id: `${id}-file`, "aria-label": t("scan_of", { name: wb.pick(m.zh, m.en) }) });
      fileInput.addEventListener("change", () => { if (fileInput.files.length) box.checked = true; });
      const need = m.required ? t("required_mark") : m.when ? t(`when_${m.when}`) : "";
      checklist.append(el("li", { dataset: { when: m.when || "always" } }, box,
        el("label", { for: id, text: `${wb.pick(m.zh, m.en)}${need ? ` (${need})` : ""}` }), fileInput));
    }
    // Find the student by name instead of typing the status id: the registry searches the school's own students
    // (the sending school's code when given, else this school; R50 refuses another school's), masked numbers only.
    const who = wb.input({ type: "search", autocomplete: "off", maxlength: "50" });
    const findButton = el("button", { type: "button", text: t("find_student") });
    const hits = el("ul", { class: "hits", id: "student-hits", "aria-live": "polite" });
    async function findStudent() {
      const name = who.value.trim();
      if (!name) return;
      const sending = form.querySelector("[name=sending]").value.trim();
      const school = /^\d{10}$/.test(sending) ? sending : wb.code();
      // Asked only where the registry would answer (R50 is still checked there): a school its own, a bureau under it.
      if (!school.startsWith(wb.code().replace(/(00)+$/, "") || wb.code())) { hits.replaceChildren(el("li", { class: "muted", text: t("find_outside", { school: wb.unit(school) }) })); return; }
      const answer = await wb.api("registry", "/v1/students", { query: { school, name } });
      if (!answer.ok) { hits.replaceChildren(el("li", { class: "muted", text: answer.status === 403 ? t("find_outside", { school: wb.unit(school) }) : wb.failure(answer) })); return; }
      const found = answer.body.students;
      hits.replaceChildren(...(found.length ? found.map((s) => {
        const pick = el("button", { type: "button", class: "hit", dataset: { student: s.student_id },
          text: `${s.name} · ${t("grade")} ${s.grade} · ${s.status_number_masked} · ${s.student_id}` });
        pick.addEventListener("click", () => {
          form.querySelector("[name=student_id]").value = s.student_id;
          form.querySelector("[name=sending]").value = s.school_code;
          grade.value = String(s.grade); grade.dispatchEvent(new Event("change")); grade.dispatchEvent(new Event("input"));
          hits.replaceChildren(el("li", { text: t("found_picked", { name: s.name }) }));
        });
        return el("li", {}, pick);
      }) : [el("li", { class: "muted", text: t("found_none", { name }) })]), ...(answer.body.more ? [el("li", { class: "muted", text: t("found_more") })] : []));
    }
    findButton.addEventListener("click", findStudent);
    who.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); findStudent(); } });
    const form = el("form", { class: "fields", novalidate: true, "aria-labelledby": "apply-title" },
      el("div", { class: "find" }, wb.field("find_name", t("find_name"), who, t("find_hint")), findButton, hits),
      wb.field("student_id", t("student_id"), wb.input({ type: "text", autocomplete: "off" }), t("student_id_hint")),
      wb.field("status", t("status_now"), wb.select([["enrolled", t("st_enrolled")], ["abroad", t("st_abroad")], ["dropped_out", t("st_dropped_out")], ["expelled", t("st_expelled")], ["left", t("st_left")], ["suspended", t("st_suspended")]])),
      wb.field("sending", t("sending_school"), wb.input({ type: "text", pattern: "\\d{10}", inputmode: "numeric", required: true, list: "school-directory" }), t("school_code_hint")),
      wb.field("receiving", t("receiving_school"), wb.input({ type: "text", value: wb.code(), readonly: true }), wb.nameOf(wb.code()) || ""),
      wb.field("grade", t("grade"), grade),
      wb.field("target_grade", t("target_grade"), wb.input({ type: "number", min: "1", max: "12", value: "4", required: true })),
      wb.field("term.start", t("term_start"), wb.input({ type: "date", value: termGuess().start })),
      wb.field("term.end", t("term_end"), wb.input({ type: "date", value: termGuess().end })),
      wb.field("term.semester", t("semester"), wb.select([["1", t("semester_1")], ["2", t("semester_2")]], {})),
      wb.field("reason", t("reason"), reason),
      wb.field("guardians_moved", t("guardians_moved"), moved),
      wb.field("household_register_changed", t("register_changed"), wb.select([["false", t("no")], ["true", t("yes")]]), t("register_changed_hint")),
      wb.field("earlier_status_changes", t("earlier_changes"), wb.select([["false", t("no")], ["true", t("yes")]]), t("earlier_changes_hint")),
      wb.field("exception_ids", t("exception_ids"), wb.input({ type: "text", autocomplete: "off" }), t("exception_ids_hint")),
      wb.field("applied_at", t("applied_at"), wb.input({ type: "date", max: today }), t("applied_at_hint")),
      el("fieldset", { class: "actions" }, el("legend", { text: t("materials_title") }), checklist),
      el("div", { class: "actions" }, el("button", { type: "submit", class: "primary", text: t("apply_submit") })));
    form.querySelector("[name='term.semester']").value = termGuess().semester;
    const datalist = el("datalist", { id: "school-directory" });
    for (const [code, name] of wb.schoolNames()) datalist.append(el("option", { value: code, label: name }));
    const answerBox = el("div", { "aria-live": "polite" });
    main.append(el("section", { class: "panel" }, el("h2", { id: "apply-title", text: t("apply_title") }),
      el("p", { class: "muted", text: t("apply_help") }), datalist, form, answerBox));
    grade.addEventListener("input", () => { form.querySelector("[name=target_grade]").value = grade.value; });

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const v = Object.fromEntries(new FormData(form).entries());
      const materials = [];
      for (const box of checklist.querySelectorAll("input[type=checkbox]:checked")) {
        const file = checklist.querySelector(`#${box.id}-file`).files[0];
        materials.push(await evidenceOf(box.value, file));
      }
      const application = { student_id: v.student_id.trim() || null, status: v.status, sending: { code: v.sending.trim() },
        receiving: { code: wb.code() }, grade: Number(v.grade), target_grade: Number(v.target_grade), reason: v.reason, materials };
      if (v["term.start"] && v["term.end"]) application.term = { start: v["term.start"], end: v["term.end"], semester: Number(v["term.semester"]) };
      if (v.guardians_moved) application.guardians_moved = v.guardians_moved;
      application.household_register_changed = v.household_register_changed === "true";
      application.earlier_status_changes = v.earlier_status_changes === "true";
      const body = { application };
      const exceptions = v.exception_ids.split(/[\s,，]+/).filter(Boolean);
      if (exceptions.length) body.exception_ids = exceptions;
      if (v.applied_at) body.applied_at = new Date(`${v.applied_at}T09:00:00+08:00`).toISOString();
      wb.say(t("working"));
      const answer = await wb.api("transfer", "/v1/transfers", { json: body, key: `apply-${crypto.randomUUID()}` });
      wb.say("");
      if (answer.status === 201) {
        wb.showProblems(form, []);
        wb.go(`#/case/${encodeURIComponent(answer.body.transfer_id)}`);
        wb.say(t("applied", { no: caseLabel(answer.body) }));
        return;
      }
      const problems = wb.problemsOf(answer).map((p) => ({ ...p, field: String(p.field).replace(/^application\./, "") }));
      wb.showProblems(form, problems);
      answerBox.replaceChildren(el("div", { class: "answer refused" }, el("h3", { tabindex: "-1", text: t("apply_refused") }), el("p", { text: wb.failure(answer) })));
    });
  } });

  function termGuess() {
    const now = new Date();
    const y = now.getFullYear(), m = now.getMonth() + 1;
    if (m >= 8) return { start: `${y}-09-01`, end: `${y + 1}-01-20`, semester: "1" };
    if (m === 1) return { start: `${y - 1}-09-01`, end: `${y}-01-20`, semester: "1" };
    return { start: `${y}-02-20`, end: `${y}-07-10`, semester: "2" };
  }
  // An evidence reference (R30): what it is, where it lives, its SHA-256. The scan stays with the school.
  async function evidenceOf(kind, file) {
    const bytes = file ? await file.arrayBuffer() : new TextEncoder().encode(`${kind}:${wb.code()}:${Date.now()}`);
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    const sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    return { kind, uri: `school:${wb.code()}/${file ? file.name : `${kind}-paper`}`, sha256 };
  }
  wb.evidenceOf = evidenceOf;

  // ---- transfers list (this jurisdiction's open stages, from the dashboard's projection) --------------
  wb.view("transfers", { tab: "tab_transfers", render: async (main) => {
    const node = wb.role() === "school" ? wb.code() : wb.code().replace(/(00)+$/, "") || wb.code();
    const filter = wb.select([["", t("all")], ["breached", t("st_breached")], ["due_soon", t("st_due_soon")]], { id: "stage-filter" });
    const tbody = el("tbody");
    let rows = [];
    async function load() {
      const [answer, assigned] = await Promise.all([wb.api("notify", "/v1/dashboard/stages", { query: { node, state: filter.value, limit: 500 } }),
        wb.api("notify", "/v1/dashboard/assignees", { query: { node } })]);
      if (!answer.ok) { wb.say(wb.failure(answer), "error"); return; }
      const who = new Map(((assigned.ok && assigned.body.assignments) || []).map((a) => [a.key, a.assignee]));
      rows = answer.body.stages.map((s) => ({ ...s, assignee: who.get(s.key) || "" }));
      tbody.replaceChildren(...rows.map((s) => el("tr", { dataset: { key: s.key } },
        el("td", {}, el("a", { href: `#/case/${encodeURIComponent(s.transfer_id)}`, text: caseLabel(s) })),
        el("td", { text: t(`s_${s.stage}`) }), el("td", { text: wb.unit(s.jurisdiction) }),
        el("td", {}, el("span", { class: `badge ${s.state}`, text: t(`st_${s.state}`) })),
        el("td", { text: s.due_day || "—" }), el("td", { class: "num", text: leftText(s.working_days_left) }),
        el("td", { text: s.assignee || "" }))));
    }
    filter.addEventListener("change", load);
    main.append(el("section", { class: "panel" }, el("div", { class: "toolbar" }, el("h2", { text: t("transfers_title") }),
      el("label", { for: filter.id, text: t("f_state") }), filter,
      wb.exportButtons("stages", () => [[t("c_transfer"), t("c_stage"), t("c_unit"), t("c_state"), t("c_due"), t("c_left")],
        ...rows.map((s) => [caseLabel(s), t(`s_${s.stage}`), wb.unit(s.jurisdiction), t(`st_${s.state}`), s.due_day || "", leftText(s.working_days_left)])])),
    el("div", { class: "scroll" }, el("table", { class: "grid", id: "stages-table" },
      el("thead", {}, el("tr", {}, ...["c_transfer", "c_stage", "c_unit", "c_state", "c_due", "c_left", "c_assignee"].map((k) => el("th", { scope: "col", text: t(k) })))), tbody))));
    if (location.hash.includes("breached")) filter.value = "breached";
    await load();
  } });

  // ---- one case: history, materials, deadline and this operator's decision -----------------------------
  wb.view("case", { under: "transfers", title: "case_title", render: async (main, tid) => {
    const answer = await wb.api("transfer", `/v1/transfers/${encodeURIComponent(tid)}`);
    if (!answer.ok) { wb.say(wb.failure(answer), "error"); return; }
    const c = answer.body;
    const app = c.case.application;
    const open = c.open_stage;
    let stageView = null;
    if (open) {
      const key = encodeURIComponent(`${c.transfer_id}:${open.stage}`);
      const [s, a] = await Promise.all([wb.api("notify", `/v1/dashboard/stages/${key}`), wb.api("notify", `/v1/dashboard/stages/${key}/assignee`)]);
      if (s.ok) stageView = { ...s.body, assignee: a.ok ? a.body.assignee : null };
    }
    const facts = [
      ["case_number", c.case_number || "—"], ["internal_id", c.transfer_id],
      ["route", `${wb.unit(app.sending.code)} → ${wb.unit(app.receiving.code)}`],
      ["student_id", app.student_id || t("no_status")], ["grade", `${app.grade} → ${app.target_grade}`],
      ["reason", reasonText(app)], ["phase", t(`ph_${c.phase}`)], ["step", `${c.step} / 8`],
      ["open_stage", open ? `${t(`s_${open.stage}`)} · ${wb.unit(open.jurisdiction)}` : "—"],
      ["deadline", open ? `${wb.fmtDueDay(open.due_at)} 24:00${open.provisional ? ` (${t("provisional_mark")})` : ""}` : "—"],
      ["left", stageView ? leftText(stageView.working_days_left) : "—"],
      ["assignee", stageView && stageView.assignee ? `${stageView.assignee}${stageView.assignee === wb.sub() ? ` (${t("me")})` : ""}` : "—"],
    ];
    const dl = el("dl", { class: "facts", id: "case-facts" });
    for (const [k, v] of facts) dl.append(el("dt", { text: t(k) }), el("dd", { dataset: { fact: k }, text: v }));
    const stages = el("ol", { class: "stages", "aria-label": t("stages") });
    for (const s of STAGES) {
      const st = (c.case.stages || {})[s];
      const status = st ? st.status : "pending";
      stages.append(el("li", { class: status, text: `${t(`s_${s}`)}: ${t(`ss_${status}`)}` }));
    }
    const materials = el("ul", { class: "plain", id: "case-materials" });
    for (const m of c.case.materials && c.case.materials.length ? c.case.materials : app.materials) {
      materials.append(el("li", {}, el("span", { text: materialName(m.kind) }), " ", el("code", { class: "muted", text: `${m.uri} · ${m.sha256.slice(0, 12)}…` })));
    }
    const history = el("ol", { class: "timeline", id: "case-history" });
    for (const h of c.history) history.append(el("li", {}, el("time", { datetime: h.recorded_at, text: wb.fmtTime(h.recorded_at) }), historyText(h)));
    const actions = el("div", { id: "case-actions" });
    main.append(el("section", { class: "panel" },
      el("div", { class: "toolbar" }, el("h2", { id: "case-title", text: `${t("case_title")} ${caseLabel(c)}` })),
      dl, stages, actions),
    el("div", { class: "side" },
      el("section", { class: "panel" }, el("h2", { text: t("materials_title") }), materials),
      el("section", { class: "panel" }, el("h2", { text: t("history") }), history)));
    renderActions(actions, c, c.transfer_id, stageView);
  } });

  function reasonText(app) {
    const all = [...(wb.state.config.policy.reasons.compulsory || []), ...(wb.state.config.policy.reasons.senior_high || [])];
    const r = all.find((x) => x.code === app.reason);
    return r ? wb.pick(r.zh, r.en) : app.reason;
  }
  function materialName(kind) {
    const m = wb.state.config.policy.materials.find((x) => x.kind === kind);
    return m ? wb.pick(m.zh, m.en) : t(`m_${kind}`);
  }
  function historyText(h) {
    // Who did it (R12): the event names its operator under the verb of its step.
    const by = h.operator || ["decided_by", "examined_by", "added_by", "notified_by", "reported_by", "sent_by", "signed_by",
      "accepted_by", "operated_by", "recorded_by", "declared_by", "applied_by"].map((k) => h[k]).find(Boolean);
    const who = by ? ` · ${by.sub || ""} ${by.code ? wb.unit(by.code) : ""}` : "";
    let what = t(`h_${h.type}`);
    if (h.stage) what += ` · ${t(`s_${h.stage}`)}`;
    if (h.decision) what += ` · ${t(`d_${h.decision}`)}`;
    if (h.reason && typeof h.reason === "string" && h.type !== "transfer_applied") what += ` · ${h.reason}`;
    return `${what}${who}`;
  }

  // The buttons this operator may press now; the service is still the judge (R21 order, R50 jurisdiction).
  function renderActions(box, c, tid, stageView) {
    const mine = (code) => code === wb.code();
    const app = c.case.application;
    const done = async (answer, okText) => {
      if (answer.ok) { wb.say(okText); await wb.route(); wb.say(okText); }
      else wb.say(wb.failure(answer), "error");
    };
    const open = c.open_stage;
    if (c.phase === "active" && c.step === 1 && mine(app.receiving.code)) {
      const cond = wb.input({ type: "checkbox", checked: true });
      const vacancy = wb.input({ type: "checkbox", checked: true });
      const form = el("form", { class: "fields", "aria-label": t("examine_title") }, el("h3", { text: t("examine_title") }),
        el("label", {}, cond, ` ${t("conditions_met")}`), el("label", {}, vacancy, ` ${t("vacancy")}`),
        el("div", { class: "actions" }, el("button", { type: "submit", class: "primary", text: t("examine_submit") })));
      form.addEventListener("submit", async (e) => { e.preventDefault();
        done(await wb.api("transfer", `/v1/transfers/${tid}/examination`, { json: { conditions_met: cond.checked, vacancy: vacancy.checked } }), t("examined")); });
      box.append(form);
    }
    if (open && mine(open.jurisdiction) && !(open.stage === "receiving_school" && c.step < 2)) box.append(decisionForm(tid, open.stage, done));
    if (open && (mine(open.jurisdiction) || (open.escalated_to && mine(open.escalated_to)))) {
      const assign = el("button", { type: "button", id: "assign-me", text: stageView && stageView.assignee === wb.sub() ? t("assigned_to_me") : t("assign_me") });
      assign.addEventListener("click", async () => done(await wb.api("notify", `/v1/dashboard/stages/${encodeURIComponent(`${c.transfer_id}:${open.stage}`)}/assignee`, { method: "PUT" }), t("assigned_to_me")));
      box.append(el("p", {}, assign));
    }
    if (c.phase === "active" && c.step === 6 && mine(app.receiving.code)) {
      const b = el("button", { type: "button", class: "primary", text: t("notify_report") });
      b.addEventListener("click", async () => done(await wb.api("transfer", `/v1/transfers/${tid}/notify-to-report`, { method: "POST" }), t("notified")));
      box.append(el("p", {}, b));
    }
    if (c.phase === "active" && c.step === 7 && mine(app.receiving.code)) {
      const b = el("button", { type: "button", class: "primary", text: t("record_report") });
      b.addEventListener("click", async () => done(await wb.api("transfer", `/v1/transfers/${tid}/report`, { json: { electronic_file: await evidenceOf("electronic_file", null) } }), t("reported")));
      box.append(el("p", {}, b));
    }
    if (c.phase === "awaiting_materials" && mine(app.receiving.code)) {
      const file = wb.input({ type: "file", "aria-label": t("scan") });
      const kind = wb.select(wb.state.config.policy.materials.map((m) => [m.kind, wb.pick(m.zh, m.en)]), { "aria-label": t("material_kind") });
      const b = el("button", { type: "button", class: "primary", text: t("add_materials") });
      b.addEventListener("click", async () => done(await wb.api("transfer", `/v1/transfers/${tid}/materials`, { json: { materials: [await evidenceOf(kind.value, file.files[0])] } }), t("materials_added")));
      box.append(el("div", { class: "toolbar" }, kind, file, b));
    }
    // The offline path (R23): a declared failure at the guardian's request, the receiving bureau's paper consent
    // with its cause, the receiving school's offline acceptance.
    const county = app.receiving.code.slice(0, 6);
    if (c.phase === "active" && c.offline === "none" && mine(app.receiving.code)) {
      const what = el("textarea", { rows: "2", maxlength: "500" });
      const asked = wb.input({ type: "checkbox" });
      const b = el("button", { type: "button", text: t("declare_failure") });
      b.addEventListener("click", async () => done(await wb.api("transfer", `/v1/transfers/${tid}/offline/system-failure`, { json: { description: what.value.trim() || "-", guardian_requested: asked.checked } }), t("offline_opened")));
      box.append(el("details", {}, el("summary", { text: t("offline_title") }), wb.field("failure", t("failure_what"), what),
        el("label", {}, asked, ` ${t("guardian_asked")}`), el("p", {}, b)));
    }
    if (c.phase === "active" && c.offline === "open" && mine(county)) {
      const cause = wb.select([["system_failure", t("cause_system_failure")], ["transmission_failure", t("cause_transmission_failure")], ["other", t("cause_other")]]);
      const text = wb.input({ type: "text", maxlength: "500" });
      const form = wb.input({ type: "file" });
      const b = el("button", { type: "button", class: "primary", text: t("sign_consent") });
      b.addEventListener("click", async () => {
        const body = { signed_form: await evidenceOf("signed_registration_form", form.files[0]), cause: cause.value };
        if (cause.value === "other") body.cause_text = text.value.trim();
        done(await wb.api("transfer", `/v1/transfers/${tid}/offline/consent`, { json: body }), t("consent_signed"));
      });
      box.append(el("section", { "aria-label": t("sign_consent") }, wb.field("cause", t("consent_cause"), cause),
        wb.field("cause_text", t("cause_text"), text), wb.field("signed_form", t("signed_form"), form), el("p", {}, b)));
    }
    if (c.phase === "active" && c.offline === "consented" && mine(app.receiving.code)) {
      const b = el("button", { type: "button", class: "primary", text: t("accept_offline") });
      b.addEventListener("click", async () => done(await wb.api("transfer", `/v1/transfers/${tid}/offline/acceptance`, { json: {} }), t("accepted_offline")));
      box.append(el("p", {}, b));
    }
    // A graduate's mistaken transfer rolled back by the county status office (R33), naming who operated.
    if (c.phase === "completed" && app.kind === "progression" && wb.role() === "county" && (mine(county) || mine(app.sending.code.slice(0, 6)))) {
      const why = el("textarea", { rows: "2", maxlength: "500" });
      const b = el("button", { type: "button", text: t("roll_back") });
      b.addEventListener("click", async () => done(await wb.api("transfer", `/v1/transfers/${tid}/rollback`, { json: { reason: why.value.trim() } }), t("rolled_back")));
      box.append(el("details", {}, el("summary", { text: t("roll_back") }), wb.field("rollback_reason", t("reason_text"), why), el("p", {}, b)));
    }
    if (c.phase === "completed" && !c.paper_file_sent_at && mine(app.sending.code)) {
      const method = wb.select([["mailed", t("pm_mailed")], ["delivered", t("pm_delivered")], ["via_guardian", t("pm_via_guardian")]], { "aria-label": t("paper_method") });
      const b = el("button", { type: "button", class: "primary", text: t("paper_sent") });
      b.addEventListener("click", async () => done(await wb.api("transfer", `/v1/transfers/${tid}/paper-file`, { json: { method: method.value } }), t("paper_recorded")));
      box.append(el("div", { class: "toolbar" }, method, b));
    }
  }

  function decisionForm(tid, stage, done) {
    const name = `decision-${stage}`;
    const choice = (value, label, checked) => el("label", {}, wb.input({ type: "radio", name, value, checked }), ` ${label}`);
    const code = wb.select([["", t("choose")], ["conditions_not_met", t("rr_conditions_not_met")], ["no_vacancy", t("rr_no_vacancy")],
      ["materials_invalid", t("rr_materials_invalid")], ["status_ineligible", t("rr_status_ineligible")], ["other", t("rr_other")]]);
    const reason = el("textarea", { rows: "2", maxlength: "500" });
    const requested = el("div", { class: "checklist" }, ...wb.state.config.policy.materials.map((m) =>
      el("label", {}, wb.input({ type: "checkbox", name: "requested", value: m.kind }), ` ${wb.pick(m.zh, m.en)}`)));
    const form = el("form", { class: "fields", id: "decide-form", "aria-labelledby": "decide-title" },
      el("h3", { id: "decide-title", text: t("decide_title", { stage: t(`s_${stage}`) }) }),
      el("fieldset", { class: "actions" }, el("legend", { text: t("decision") }), choice("approve", t("d_approve"), true),
        choice("reject", t("d_reject")), choice("return_for_materials", t("d_return_for_materials"))),
      wb.field("reason_code", t("reject_code"), code), wb.field("reason", t("reason_text"), reason, t("reason_hint")),
      el("fieldset", { class: "actions" }, el("legend", { text: t("requested_materials") }), requested),
      el("div", { class: "actions" }, el("button", { type: "submit", class: "primary", text: t("decide_submit") })));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const decision = form.querySelector(`input[name=${name}]:checked`).value;
      const body = { decision };
      if (decision === "reject") {
        const local = [];
        if (!code.value) local.push({ field: "reason_code", reason: t("required") });
        if (!reason.value.trim()) local.push({ field: "reason", reason: t("required") });
        wb.showProblems(form, local);
        if (local.length) return;
        body.reason_code = code.value;
      }
      if (reason.value.trim()) body.reason = reason.value.trim();
      if (decision === "return_for_materials") body.requested = [...form.querySelectorAll("input[name=requested]:checked")].map((i) => i.value);
      const answer = await wb.api("transfer", `/v1/transfers/${tid}/stages/${stage}/decision`, { json: body, key: `decide-${tid}-${stage}-${crypto.randomUUID()}` });
      if (!answer.ok) wb.showProblems(form, wb.problemsOf(answer));
      done(answer, t(`decided_${decision}`));
    });
    return form;
  }
})();
