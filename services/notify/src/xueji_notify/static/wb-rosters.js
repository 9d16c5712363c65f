// Graduation rosters (R46, R08): the school opens the roster composed from its records and submits it; the county
// bureau of the school reads it (each graduate with the certificate number the roster gives) and approves it, which
// graduates everyone on it, or returns it with a reason for the school to submit again.
(function () {
  "use strict";
  const wb = window.XUEJI_WB;
  const { el, t } = wb;
  Object.assign(window.XUEJI_TEXT["zh-CN"], {
    rs_draft: "草稿（尚未报送）", rs_submitted: "已报送，待县级教育局审核", rs_returned: "已退回学校", rs_approved: "已审核通过",
    roster_status: "名册状态", roster_graduates: "毕业生 {n} 人", c_seq: "序号", certificate_no: "毕业证书编号", roster_left_off: "不在名册上（结业等）",
    roster_submitted_by: "报送：{at} · {by}", roster_reviewed_by: "审核：{at} · {by} · {reason}", roster_graduated: "已毕业 {n} 人",
    return_reason_needed: "退回时请写明理由", leave_off: "不列入（结业）", leave_off_row: "{name} 不列入毕业名册（结业）",
    left_off_reason: "不列入的原因", left_off_default: "修完课程但未达到毕业要求，发给结业证书",
  });
  Object.assign(window.XUEJI_TEXT.en, {
    rs_draft: "Draft (not submitted)", rs_submitted: "Submitted, awaiting the county bureau", rs_returned: "Returned to the school", rs_approved: "Approved",
    roster_status: "Roster state", roster_graduates: "{n} graduates", c_seq: "No.", certificate_no: "Certificate number", roster_left_off: "Not on the roster (completion etc.)",
    roster_submitted_by: "Submitted: {at} · {by}", roster_reviewed_by: "Reviewed: {at} · {by} · {reason}", roster_graduated: "{n} graduated",
    return_reason_needed: "Say why the roster is returned", leave_off: "Leave off (completion)", leave_off_row: "Leave {name} off the roster (completion certificate)",
    left_off_reason: "Why they are left off", left_off_default: "Courses done but requirements not met: completion certificate",
  });
  const thisYear = () => { const d = new Date(); return d.getMonth() >= 7 ? d.getFullYear() + 1 : d.getFullYear(); };

  // Who acted, as the registry names an actor (operator_id, role, code) or a token's claims (sub).
  const actor = (by) => (by ? `${by.operator_id || by.sub || ""} ${by.code ? wb.unit(by.code) : ""}`.trim() : "");
  // The roster as the registry answers it: its state in words, who submitted and reviewed it, and the graduates.
  function rosterView(r) {
    const roster = r.roster || {};
    const graduates = roster.graduates || [];
    const facts = el("dl", { class: "facts" }, el("dt", { text: t("roster_status") }),
      el("dd", { id: "roster-status", dataset: { status: r.status }, text: `${t(`rs_${r.status}`)} · ${t("roster_graduates", { n: graduates.length })}` }));
    if (r.submitted) facts.append(el("dt", { text: t("graduation_submitted") }), el("dd", { text: t("roster_submitted_by", { at: wb.fmtTime(r.submitted.at), by: actor(r.submitted.by) }) }));
    if (r.review) facts.append(el("dt", { text: t("rosters_title") }), el("dd", { id: "roster-review", text: t("roster_reviewed_by", { at: wb.fmtTime(r.review.at), by: actor(r.review.by), reason: r.review.reason }) }));
    if (r.graduated !== undefined) facts.append(el("dt", { text: t("rs_approved") }), el("dd", { id: "roster-graduated", text: t("roster_graduated", { n: Array.isArray(r.graduated) ? r.graduated.length : r.graduated }) }));
    const table = el("table", { class: "grid", id: "roster-table" }, el("caption", { class: "visually-hidden", text: t("graduation_title") }),
      el("thead", {}, el("tr", {}, ...["c_seq", "name", "status_number", "certificate_no"].map((k) => el("th", { scope: "col", text: t(k) })))),
      el("tbody", {}, ...graduates.map((g) => el("tr", { dataset: { student: g.student_id } }, el("td", { class: "num", text: String(g.sequence) }),
        el("td", { text: g.name }), el("td", { text: g.status_number_masked }), el("td", { text: g.certificate_number || "—" })))));
    const out = [facts, el("div", { class: "scroll" }, table)];
    if ((roster.left_off || []).length) {
      out.push(el("h3", { text: t("roster_left_off") }), el("ul", { class: "plain" }, ...roster.left_off.map((x) => el("li", { text: `${x.name} · ${x.reason}` }))));
    }
    return out;
  }

  // Year and segment of one roster; `school` is fixed for a school, typed (with the directory's names) for a bureau.
  // The roster last opened is opened again when the page is redrawn (a language switch, a return to the tab).
  const opened = new Map();
  function rosterForm(school, onOpen, preset) {
    const year = wb.input({ type: "number", min: "2000", max: "2099", value: String(thisYear()), required: true });
    const segment = wb.select([["junior", t("seg_junior")], ["senior", t("seg_senior")]]);
    const form = el("form", { class: "fields", id: "roster-form", novalidate: true, "aria-labelledby": "roster-form-title" },
      school.field || null, wb.field("graduation_year", t("graduation_year"), year), wb.field("segment", t("segment"), segment),
      el("div", { class: "actions" }, el("button", { type: "submit", text: t("open_roster") })));
    async function open() {
      const code = school.value();
      if (!/^\d{10}$/.test(code)) { wb.showProblems(form, [{ field: "school", reason: t("school_code_hint") }]); return; }
      const path = `/v1/rosters/graduation/${code}/${year.value}/${segment.value}`;
      opened.set(wb.role(), { code, year: year.value, segment: segment.value });
      const answer = await wb.api("registry", path);
      wb.showProblems(form, answer.ok ? [] : wb.problemsOf(answer));
      onOpen(answer, path, form);
    }
    form.addEventListener("submit", (e) => { e.preventDefault(); open(); });
    const last = preset && preset.code ? preset : opened.get(wb.role());
    if (last) {
      if (school.input) school.input.value = last.code;
      year.value = last.year;
      segment.value = last.segment;
      open();
    }
    return form;
  }

  // ---- the school: open this year's roster and submit it (again, after a return) -------------------------
  wb.graduationPanel = function graduationPanel() {
    const out = el("div", { id: "roster", "aria-live": "polite" });
    const show = (answer, path, form) => {
      out.replaceChildren();
      if (!answer.ok) { wb.say(wb.failure(answer), "error"); return; }
      wb.say("");
      out.append(...rosterView(answer.body));
      if (answer.body.status !== "draft" && answer.body.status !== "returned") return;
      // R46: a student whose courses are done but who does not meet the requirements is left off (a completion
      // certificate instead), with the reason; the roster then numbers the others without a gap.
      const table = out.querySelector("#roster-table");
      table.querySelector("thead tr").append(el("th", { scope: "col", text: t("leave_off") }));
      for (const tr of table.querySelectorAll("tbody tr")) {
        const name = tr.children[1].textContent;
        tr.append(el("td", {}, wb.input({ type: "checkbox", class: "leave-off", value: tr.dataset.student, "aria-label": t("leave_off_row", { name }) })));
      }
      const why = wb.input({ type: "text", maxlength: "500", value: t("left_off_default") });
      out.append(el("div", { class: "fields" }, wb.field("left_off_reason", t("left_off_reason"), why)));
      const submit = el("button", { type: "button", class: "primary", id: "submit-graduation", text: t("submit_graduation") });
      submit.addEventListener("click", async () => {
        const leftOff = [...table.querySelectorAll("input.leave-off:checked")].map((c) => ({ student_id: c.value, reason: why.value.trim() || t("left_off_default") }));
        const done = await wb.api("registry", `${path}/submission`, { json: { left_off: leftOff } });
        if (!done.ok) { wb.showProblems(form, wb.problemsOf(done)); wb.say(wb.failure(done), "error"); return; }
        show(await wb.api("registry", path), path, form);
        wb.say(t("graduation_submitted"));
      });
      out.append(el("p", {}, submit));
    };
    return el("section", { class: "panel", "aria-labelledby": "roster-form-title" }, el("h2", { id: "roster-form-title", text: t("graduation_title") }),
      rosterForm({ value: () => wb.code() }, show), out);
  };

  // ---- the county bureau: read a school's roster, approve it or return it with a reason ---------------------
  wb.view("rosters", { tab: "tab_rosters", roles: ["county"], render(main, code, year, segment) {
    const schoolInput = wb.input({ type: "text", pattern: "\\d{10}", inputmode: "numeric", required: true, list: "roster-schools" });
    const datalist = el("datalist", { id: "roster-schools" }, ...wb.schoolNames().filter(([c]) => c.startsWith(wb.code())).map(([c, n]) => el("option", { value: c, label: n })));
    const out = el("div", { id: "roster", "aria-live": "polite" });
    const show = (answer, path) => {
      out.replaceChildren();
      if (!answer.ok) { wb.say(wb.failure(answer), "error"); return; }
      wb.say("");
      out.append(...rosterView(answer.body));
      if (answer.body.status !== "submitted") return;
      const reason = el("textarea", { rows: "2", maxlength: "500" });
      const approve = el("button", { type: "button", class: "primary", text: t("approve_roster") });
      const back = el("button", { type: "button", text: t("return_roster") });
      const decision = el("div", { class: "fields", id: "roster-decision" }, wb.field("reason", t("reason_text"), reason, t("reason_hint")), el("div", { class: "toolbar" }, approve, back));
      const decide = async (ok) => {
        if (!ok && !reason.value.trim()) { wb.showProblems(decision, [{ field: "reason", reason: t("return_reason_needed") }]); return; }
        const done = await wb.api("registry", `${path}/review`, { json: { approve: ok, reason: reason.value.trim() || t("approve_roster") } });
        if (!done.ok) { wb.showProblems(decision, wb.problemsOf(done)); wb.say(wb.failure(done), "error"); return; }
        show(await wb.api("registry", path), path);
        wb.say(t(ok ? "roster_approved" : "roster_returned"));
      };
      approve.addEventListener("click", () => decide(true));
      back.addEventListener("click", () => decide(false));
      out.append(decision);
    };
    const school = { field: wb.field("school", t("school"), schoolInput, t("school_code_hint")), input: schoolInput, value: () => schoolInput.value.trim() };
    main.append(el("section", { class: "panel", "aria-labelledby": "roster-form-title" }, el("h2", { id: "roster-form-title", text: t("rosters_title") }),
      datalist, rosterForm(school, show, { code, year, segment }), out));
  } });
})();
