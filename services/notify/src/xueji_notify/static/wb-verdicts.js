// After a class upload: each requested row's duplicate-check answer as it arrives (R01, R14) — pending the check,
// enrolled, held for the county's review, or refused (with the refusal's rule and reason: R01, R02, R14) — without
// reloading the page. The registry answers a student's state by id; only rows still pending are asked again, a few
// at a time, until none is left.
(function () {
  "use strict";
  const wb = window.XUEJI_WB;
  const { el, t } = wb;
  Object.assign(window.XUEJI_TEXT["zh-CN"], {
    verdicts_title: "查重结果", verdicts_progress: "查重进度", vs_awaiting: "待查重", vs_enrolled: "已建籍", vs_held: "待县级复核",
    vs_refused: "不予建籍（已有学籍）", vs_refused_why: "不予建籍：{why}", verdicts_counts: "已建籍 {enrolled} · 待县级复核 {held} · 不予建籍 {refused} · 待查重 {awaiting}",
    verdicts_done: "全部 {n} 行已有查重结果", verdicts_slow: "仍有 {n} 行在等待查重结果：稍后在待办中查看",
  });
  Object.assign(window.XUEJI_TEXT.en, {
    verdicts_title: "Duplicate check", verdicts_progress: "Duplicate check progress", vs_awaiting: "awaiting the check", vs_enrolled: "enrolled",
    vs_held: "held for the county's review", vs_refused: "refused (already has a record)", vs_refused_why: "refused: {why}",
    verdicts_counts: "enrolled {enrolled} · held for review {held} · refused {refused} · awaiting {awaiting}",
    verdicts_done: "All {n} rows have their answer", verdicts_slow: "{n} rows still await the check: see the inbox later",
  });
  const kindOf = (state) => (state === "awaiting_duplicate_check" ? "awaiting" : state === "pending_review" ? "held"
    : state === "refused" || state === "refused_as_duplicate" ? "refused" : "enrolled");
  const known = new Map(); // student id -> {kind, refusal}, kept across redraws (a language switch) of the same upload

  // A refused request answers its rule and reason (the pending view): said in the page's language, the rule named.
  // A record closed as a duplicate answers neither: it already has a record.
  function stateText(r) {
    if (r.kind !== "refused" || !r.refusal) return t(`vs_${r.kind}`);
    const { rule, reason } = r.refusal;
    const said = wb.reasonText(reason, rule);
    return t("vs_refused_why", { why: said.includes(rule) ? said : wb.zh() ? `${said}（${rule}）` : `${said} (${rule})` });
  }
  wb.verdictText = stateText;

  wb.verdictProgress = function verdictProgress(students) {
    const rows = students.map((s) => ({ ...s, kind: "awaiting", ...known.get(s.student_id) }));
    const bar = el("progress", { max: String(rows.length), value: "0", "aria-label": t("verdicts_progress") });
    const counts = el("p", { id: "verdict-counts", "aria-live": "polite" });
    const tbody = el("tbody");
    const section = el("section", { id: "upload-verdicts", "aria-labelledby": "verdicts-title" },
      el("h3", { id: "verdicts-title", text: t("verdicts_title") }), bar, counts,
      el("div", { class: "scroll" }, el("table", { class: "grid", id: "verdict-rows" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("row") }), el("th", { scope: "col", text: t("student_id") }), el("th", { scope: "col", text: t("c_state") }))), tbody)));
    function draw(polls) {
      const n = { awaiting: 0, enrolled: 0, held: 0, refused: 0 };
      for (const r of rows) n[r.kind] += 1;
      bar.value = rows.length - n.awaiting;
      counts.dataset.awaiting = String(n.awaiting);
      counts.dataset.enrolled = String(n.enrolled);
      counts.textContent = `${t("verdicts_counts", n)}${n.awaiting ? (polls > 60 ? ` — ${t("verdicts_slow", { n: n.awaiting })}` : "") : ` — ${t("verdicts_done", { n: rows.length })}`}`;
      // Rows that need a look (not simply enrolled) are listed by row number.
      tbody.replaceChildren(...rows.filter((r) => r.kind !== "enrolled").map((r) => el("tr", { dataset: { row: r.row, kind: r.kind } },
        el("td", { class: "num", text: String(r.row) }), el("td", { text: r.student_id }), el("td", { text: stateText(r) }))));
    }
    async function poll(polls) {
      if (!section.isConnected && polls > 0) return; // the page moved on
      const waiting = rows.filter((r) => r.kind === "awaiting");
      for (let i = 0; i < waiting.length; i += 6) {
        await Promise.all(waiting.slice(i, i + 6).map(async (r) => {
          const answer = await wb.api("registry", `/v1/students/${encodeURIComponent(r.student_id)}`);
          if (!answer.ok) return;
          const b = answer.body;
          r.kind = kindOf(b.state);
          r.refusal = b.state === "refused" && b.rule ? { rule: b.rule, reason: b.reason || "" } : null;
          if (r.kind !== "awaiting") known.set(r.student_id, { kind: r.kind, refusal: r.refusal });
        }));
      }
      draw(polls);
      if (rows.some((r) => r.kind === "awaiting") && polls < 120) setTimeout(() => poll(polls + 1), 1000);
    }
    draw(0);
    poll(0);
    return section;
  };
})();
