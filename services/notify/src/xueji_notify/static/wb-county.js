// The county bureau's pages: suspected duplicates (R14), exceptions (R08, R27, R40), the semester audit (R51).
(function () {
  "use strict";
  const wb = window.XUEJI_WB;
  const { el, t } = wb;
  const BUREAUS = ["county", "city", "province"];

  // ---- suspected duplicates: the queue, then both records side by side ------------------------------
  wb.view("reviews", { tab: "tab_reviews", roles: BUREAUS, render: async (main) => {
    const state = wb.select([["open", t("rv_open")], ["decided", t("rv_decided")], ["", t("all")]], { id: "review-state" });
    const tbody = el("tbody");
    let cases = [];
    let next = null;  // the queue comes a page at a time (oldest first); "more" reads the next page
    const more = el("button", { type: "button", id: "reviews-more", text: t("rv_more"), hidden: true });
    async function load(cursor) {
      const answer = await wb.api("dedupe", "/v1/review-cases", { query: { state: state.value, cursor } });
      if (!answer.ok) { wb.say(wb.failure(answer), "error"); return; }
      cases = cursor ? cases.concat(answer.body.cases) : answer.body.cases;
      next = answer.body.next_cursor;
      more.hidden = !next;
      tbody.replaceChildren(...cases.map((c) => el("tr", { dataset: { case: c.case_id } },
        el("td", {}, el("a", { href: `#/review/${encodeURIComponent(c.case_id)}`, text: c.case_id })),
        el("td", { text: wb.unit(c.school_code) }), el("td", { text: wb.fmtTime(c.opened_at) }),
        el("td", { text: wb.fmtDueDay(c.due_at) }), el("td", { text: c.state === "decided" ? t(`rd_${c.decision}`) : t("rv_open") }))));
    }
    state.addEventListener("change", () => load(null));
    more.addEventListener("click", () => load(next));
    main.append(el("section", { class: "panel" }, el("div", { class: "toolbar" }, el("h2", { text: t("reviews_title") }),
      el("label", { for: state.id, text: t("f_state") }), state,
      wb.exportButtons("review-queue", () => [[t("case"), t("school"), t("opened"), t("c_due"), t("c_state")],
        ...cases.map((c) => [c.case_id, wb.unit(c.school_code), wb.fmtTime(c.opened_at), wb.fmtDueDay(c.due_at), c.state === "decided" ? t(`rd_${c.decision}`) : t("rv_open")])])),
    el("div", { class: "scroll" }, el("table", { class: "grid", id: "reviews-table" },
      el("thead", {}, el("tr", {}, ...["case", "school", "opened", "c_due", "c_state"].map((k) => el("th", { scope: "col", text: t(k) })))), tbody)), more));
    await load(null);
  } });

  const PERSON = ["name", "gender", "birth_date", "id_number", "id_number_masked", "school_code", "student_id", "status_number_masked", "grade"];
  function record(title, data) {
    const dl = el("dl", { class: "facts" });
    for (const [k, raw] of Object.entries(data || {})) {
      const v = Array.isArray(raw) ? raw.join("、") : raw;
      if (v === null || v === undefined || v === "" || typeof v === "object") continue;
      dl.append(el("dt", { text: t(`p_${k}`) === `p_${k}` ? k : t(`p_${k}`) }), el("dd", { text: k === "school_code" ? wb.unit(String(v)) : k === "gender" ? t(String(v)) : k === "score" ? `${Math.round(Number(v) * 100)}%` : String(v) }));
    }
    return el("section", { class: "panel" }, el("h3", { text: title }), dl);
  }
  function evidence(match) {
    const words = [];
    for (const key of ["reasons", "evidence", "signals", "why"]) {
      const v = match[key];
      if (Array.isArray(v)) words.push(...v.map((x) => (typeof x === "string" ? x : wb.pick(x.zh || x.text || JSON.stringify(x), x.en))));
      else if (typeof v === "string") words.push(v);
    }
    if (match.score !== undefined) words.push(t("similarity", { n: Math.round(Number(match.score) * 100) }));
    return words;
  }

  wb.view("review", { under: "reviews", title: "review_title", roles: BUREAUS, render: async (main, caseId) => {
    const answer = await wb.api("dedupe", `/v1/review-cases/${encodeURIComponent(caseId)}`);
    if (!answer.ok) { wb.say(wb.failure(answer), "error"); return; }
    const c = answer.body;
    const existing = (c.matches || [])[0] || {};
    // The evidence in words: each compared feature, how alike, and whether it speaks for or against one person.
    const words = (c.evidence || []).map((f) => t("ev_line", { what: t(`ev_${f.name}`) === `ev_${f.name}` ? f.name : t(`ev_${f.name}`),
      level: t(`lv_${f.level}`) === `lv_${f.level}` ? f.level : t(`lv_${f.level}`), pct: Math.round(100 * (f.similarity || 0)),
      side: f.weight > 0 ? t("ev_for") : f.weight < 0 ? t("ev_against") : t("ev_neutral") }));
    if (!words.length) words.push(...(c.matches || []).flatMap(evidence));
    main.append(el("section", { class: "panel" }, el("h2", { id: "review-title", text: `${t("review_title")} ${c.case_id}` }),
      el("p", { text: `${t("school")}: ${wb.unit(c.school_code)} · ${t("c_due")}: ${wb.fmtDueDay(c.due_at)}` }),
      el("h3", { text: t("evidence_words") }), el("ul", { id: "review-evidence" }, ...(words.length ? words : [t("no_evidence")]).map((w) => el("li", { text: w })))),
    el("div", { class: "side", id: "review-records" }, record(t("new_record"), { ...(c.request || {}), student_id: c.student_id }), record(t("existing_record"), existing)));
    if (c.state === "decided") {
      main.append(el("div", { class: "answer ok" }, el("h3", { text: t(`rd_${c.decision}`) }),
        el("p", { text: `${c.decision_reason} · ${c.decided_by} · ${wb.fmtTime(c.decided_at)}` })));
      return;
    }
    const name = "review-decision";
    const reason = el("textarea", { rows: "2", maxlength: "500", required: true });
    const form = el("form", { class: "fields", id: "review-form", "aria-labelledby": "review-decide" },
      el("h3", { id: "review-decide", text: t("decide_once") }),
      el("fieldset", { class: "actions" }, el("legend", { text: t("decision") }),
        el("label", {}, wb.input({ type: "radio", name, value: "different_person" }), ` ${t("rd_different_person")}`),
        el("label", {}, wb.input({ type: "radio", name, value: "same_person" }), ` ${t("rd_same_person")}`)),
      wb.field("reason", t("reason_text"), reason, t("review_reason_hint")),
      el("div", { class: "actions" }, el("button", { type: "submit", class: "primary", text: t("decide_submit") })));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const chosen = form.querySelector(`input[name=${name}]:checked`);
      const local = [];
      if (!chosen) local.push({ field: "reason", reason: t("choose_decision") });
      else if (reason.value.trim().length < 2) local.push({ field: "reason", reason: t("required") });
      wb.showProblems(form, local);
      if (local.length) return;
      const done = await wb.api("dedupe", `/v1/review-cases/${encodeURIComponent(caseId)}/decision`, { json: { decision: chosen.value, reason: reason.value.trim() } });
      if (!done.ok) { wb.say(wb.failure(done), "error"); return; }
      await wb.route();
      wb.say(t("review_decided"));
    });
    main.append(form);
  } });

  // ---- exceptions to "generally" rules (R27, R40, R08): recorded by the named bureau, listed for the audit --
  const CLAUSES = { R27: ["handling_period", "first_grade_first_semester", "graduation_grade_last_semester"],
    R40: ["graduation_semester", "suspension_period"], R08: ["second_reissue"] };
  wb.view("exceptions", { tab: "tab_exceptions", roles: BUREAUS, render: async (main) => {
    const rule = wb.select(Object.keys(CLAUSES).map((r) => [r, t(`rule_${r}`)]));
    const clause = el("select");
    const fillClauses = () => clause.replaceChildren(...CLAUSES[rule.value].map((c) => el("option", { value: c, text: t(`cl_${c}`) })));
    rule.addEventListener("change", () => { fillClauses(); toggle(); });
    fillClauses();
    const receiving = wb.input({ type: "text", pattern: "\\d{10}", inputmode: "numeric", list: "exception-schools" });
    const certificate = wb.input({ type: "text", autocomplete: "off" });
    const evidence = wb.input({ type: "file" });
    const reason = el("textarea", { rows: "3", maxlength: "500", required: true });
    const datalist = el("datalist", { id: "exception-schools" }, ...wb.schoolNames().filter(([c]) => c.startsWith(wb.code())).map(([c, n]) => el("option", { value: c, label: n })));
    const receivingField = wb.field("receiving_school", t("receiving_school"), receiving, t("school_code_hint"));
    const certificateField = wb.field("certificate_number", t("certificate_number"), certificate);
    const form = el("form", { class: "fields", id: "exception-form", novalidate: true, "aria-labelledby": "exception-title" },
      wb.field("rule", t("rule"), rule), wb.field("clause", t("clause"), clause),
      wb.field("student_id", t("student_id"), wb.input({ type: "text", autocomplete: "off", required: true })),
      receivingField, certificateField, wb.field("reason", t("written_reason"), reason, t("written_reason_hint")),
      wb.field("evidence", t("evidence_file"), evidence, t("evidence_hint")),
      el("div", { class: "actions" }, el("button", { type: "submit", class: "primary", text: t("record_exception") })));
    function toggle() { receivingField.hidden = rule.value !== "R27"; certificateField.hidden = rule.value !== "R08"; }
    toggle();
    const answerBox = el("div", { "aria-live": "polite" });
    const tbody = el("tbody");
    let rows = [];
    async function load() {
      const answer = await wb.api("notify", "/v1/dashboard/exceptions", { query: { node: wb.code().replace(/(00)+$/, "") || wb.code() } });
      if (!answer.ok) return;
      rows = answer.body.exceptions;
      tbody.replaceChildren(...rows.map((x) => el("tr", {}, el("td", { text: x.rule }), el("td", { text: t(`cl_${x.clause}`) }),
        el("td", { text: x.subject_id || "" }), el("td", { text: x.school_code ? wb.unit(x.school_code) : "" }),
        el("td", { class: "why", text: x.reason || "" }), el("td", { text: wb.fmtTime(x.occurred_at) }))));
    }
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const v = Object.fromEntries(new FormData(form).entries());
      const local = [];
      if (!v.student_id.trim()) local.push({ field: "student_id", reason: t("required") });
      if (!v.reason.trim()) local.push({ field: "reason", reason: t("required") });
      if (rule.value === "R27" && !/^\d{10}$/.test(v.receiving_school)) local.push({ field: "receiving_school", reason: t("school_code_hint") });
      wb.showProblems(form, local);
      if (local.length) return;
      const registryKind = "supporting_document";
      const ref = await wb.evidenceOf(rule.value === "R27" ? "other" : registryKind, evidence.files[0]);
      let answer;
      if (rule.value === "R27") {
        answer = await wb.api("transfer", "/v1/exceptions", { json: { rule: "R27", clause: v.clause, student_id: v.student_id.trim(),
          receiving_school: v.receiving_school, reason: v.reason.trim(), evidence: [ref] }, key: `exception-${crypto.randomUUID()}` });
      } else {
        const body = { rule: rule.value, clause: v.clause, reason: v.reason.trim(), evidence: [ref] };
        if (rule.value === "R08") body.certificate_number = v.certificate_number.trim();
        answer = await wb.api("registry", `/v1/students/${encodeURIComponent(v.student_id.trim())}/exceptions`, { json: body });
      }
      if (!answer.ok) wb.showProblems(form, wb.problemsOf(answer));
      const id = answer.ok ? answer.body.exception_id || (answer.body.exception && answer.body.exception.exception_id) || "" : "";
      answerBox.replaceChildren(el("div", { class: `answer ${answer.ok ? "ok" : "refused"}`, dataset: { verdict: answer.ok ? "recorded" : "refused" } },
        el("h3", { tabindex: "-1", text: answer.ok ? t("exception_recorded", { id }) : t("exception_refused") }),
        el("p", { text: answer.ok ? t("exception_next") : wb.failure(answer) })));
      answerBox.querySelector("h3").focus();
      if (answer.ok) setTimeout(load, 1500);
    });
    main.append(el("section", { class: "panel" }, el("h2", { id: "exception-title", text: t("exceptions_title") }),
      el("p", { class: "muted", text: t("exceptions_help") }), datalist, form, answerBox),
    el("section", { class: "panel" }, el("div", { class: "toolbar" }, el("h2", { text: t("exceptions_list") }),
      wb.exportButtons("exceptions", () => [[t("rule"), t("clause"), t("student_id"), t("school"), t("written_reason"), t("opened")],
        ...rows.map((x) => [x.rule, t(`cl_${x.clause}`), x.subject_id || "", x.school_code || "", x.reason || "", wb.fmtTime(x.occurred_at)])])),
      el("div", { class: "scroll" }, el("table", { class: "grid", id: "exceptions-table" },
        el("thead", {}, el("tr", {}, ...["rule", "clause", "student_id", "school", "written_reason", "opened"].map((k) => el("th", { scope: "col", text: t(k) })))), tbody))));
    await load();
  } });

  // ---- the semester audit (R51): run it, read it, download it ------------------------------------------
  wb.view("audit", { tab: "tab_audit", roles: BUREAUS, render(main) {
    const run = el("button", { type: "button", class: "primary", id: "run-audit", text: t("run_audit") });
    const download = el("button", { type: "button", id: "download-audit", text: t("download_audit") });
    const out = el("div", { id: "audit-result", "aria-live": "polite" });
    let rows = [];
    run.addEventListener("click", async () => {
      wb.say(t("working"));
      const answer = await wb.api("registry", "/v1/audit");
      if (!answer.ok) { wb.say(wb.failure(answer), "error"); return; }
      wb.say("");
      const a = answer.body;
      rows = a.problems;
      out.replaceChildren(el("p", { text: t("audit_summary", { n: a.records_audited, bad: a.records_with_problems, at: wb.fmtTime(a.generated_at) }) }),
        el("div", { class: "toolbar" }, wb.exportButtons("audit", () => [[t("school"), t("student_id"), t("status_number"), t("problem"), t("rule"), t("detail"), t("c_due")],
          ...rows.map((p) => [wb.unit(p.school_code), p.student_id, p.status_number_masked, wb.pick(p.problem_zh, p.problem), p.rule, p.detail || "", p.due || ""])])),
        el("div", { class: "scroll" }, el("table", { class: "grid", id: "audit-table" },
          el("thead", {}, el("tr", {}, ...["school", "student_id", "status_number", "problem", "rule", "detail", "c_due"].map((k) => el("th", { scope: "col", text: t(k) })))),
          el("tbody", {}, ...rows.map((p) => el("tr", {}, el("td", { text: wb.unit(p.school_code) }), el("td", { text: p.student_id }),
            el("td", { text: p.status_number_masked }), el("td", { text: wb.pick(p.problem_zh, p.problem) }), el("td", { text: p.rule }),
            el("td", { text: p.detail || "" }), el("td", { text: p.due || "" })))))));
    });
    download.addEventListener("click", async () => {
      const answer = await wb.api("registry", "/v1/audit.xlsx", { blob: true, accept: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
      if (!answer.ok) { wb.say(wb.failure(answer), "error"); return; }
      wb.download(answer.body, `audit-${wb.code()}-${new Date().toISOString().slice(0, 10)}.xlsx`);
    });
    main.append(el("section", { class: "panel" }, el("h2", { text: t("audit_title") }), el("p", { class: "muted", text: t("audit_help") }),
      el("div", { class: "toolbar" }, run, download), out));
  } });
})();
