// The SLA dashboard page: sign-in with the operator JWT, drill-down by jurisdiction, live updates.
//
// The token arrives in the URL fragment (#token=..., never sent to a server) or is pasted in, and is
// kept in sessionStorage for this tab. Every request, the live stream included, sends it in the
// Authorization header: the stream is read with fetch() instead of EventSource, which cannot set headers.
(function () {
  "use strict";
  const TEXT = window.XUEJI_TEXT;
  const CHARTS = window.XUEJI_CHARTS;
  const $ = (id) => document.getElementById(id);
  const state = {
    lang: localStorage.getItem("xueji.lang") || "zh-CN",
    token: null, node: null, root: null, within: null, stage: "", filter: "", quiet: true,
    summary: null, stages: null, offline: null, compliance: null, exceptions: null, live: null,
  };

  // ---- text -------------------------------------------------------------------------------------
  function t(key, vars) {
    let s = (TEXT[state.lang] && TEXT[state.lang][key]) || TEXT["zh-CN"][key] || key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replaceAll(`{${k}}`, String(v));
    return s;
  }
  function applyLanguage() {
    document.documentElement.lang = state.lang;
    document.title = `${t("title")} · 学籍`;
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    const other = state.lang === "zh-CN" ? "en" : "zh-CN";
    $("lang").textContent = other === "en" ? "English" : "中文";
    $("lang").lang = other;
    $("lang").setAttribute("aria-label", other === "en" ? "Switch to English" : "切换到中文");
    setLive(state.liveState || "off");
    render();
  }
  const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString(state.lang, { timeZone: "Asia/Shanghai", hour12: false,
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }) : "—");
  const fmtDay = (iso) => iso || "—";
  function unitName(row) {
    if (row.name) return row.name;
    return row.level === "school" ? t("school", { code: row.code }) : row.code;
  }

  // ---- token and requests ------------------------------------------------------------------------
  function takeToken() {
    const hash = new URLSearchParams(location.hash.slice(1));
    const fromUrl = hash.get("token");
    if (fromUrl) {
      sessionStorage.setItem("xueji.token", fromUrl);
      hash.delete("token");
      history.replaceState(null, "", location.pathname + (hash.toString() ? `#${hash}` : ""));
    }
    return sessionStorage.getItem("xueji.token");
  }
  // A sign-in link of the local stack carries a one-time code instead (traded once at the workbench's configured
  // issuer, then spent), so no token is ever in an address.
  async function takeCode() {
    const hash = new URLSearchParams(location.hash.slice(1));
    const code = hash.get("code");
    if (!code) return;
    hash.delete("code");
    history.replaceState(null, "", location.pathname + (hash.toString() ? `#${hash}` : ""));
    try {
      const config = await (await fetch("/workbench/config.json", { cache: "no-store" })).json();
      if (!config.exchange_url) return;
      const res = await fetch(config.exchange_url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code }), cache: "no-store" });
      const body = res.ok ? await res.json() : null;
      if (body && body.token) sessionStorage.setItem("xueji.token", body.token);
    } catch (e) { /* the sign-in form says what to do */ }
  }
  function claims(token) {
    try {
      const body = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(decodeURIComponent(escape(atob(body))));
    } catch (e) { return null; }
  }
  function rootOf(c) {
    const cut = { school: 10, county: 6, city: 4, province: 2, ministry: 0 }[c.role];
    return c.code.slice(0, cut);
  }
  class Refused extends Error { constructor(status) { super(String(status)); this.status = status; } }
  async function api(path, params) {
    const query = new URLSearchParams(Object.entries(params || {}).filter(([, v]) => v !== "" && v !== null && v !== undefined));
    const res = await fetch(`${path}${query.toString() ? `?${query}` : ""}`, {
      headers: { Authorization: `Bearer ${state.token}`, Accept: "application/json" }, cache: "no-store" });
    if (!res.ok) throw new Refused(res.status);
    return res.json();
  }
  function signOut(reason) {
    sessionStorage.removeItem("xueji.token");
    state.token = null;
    if (state.live) state.live.abort();
    $("main").hidden = true;
    $("signin").hidden = false;
    $("signin-reason").textContent = reason ? t(reason) : t("signin_help");
    $("token-input").focus();
  }

  // ---- navigation (#n=<node>&within=&stage=&state=) ----------------------------------------------
  function readHash() {
    const hash = new URLSearchParams(location.hash.slice(1));
    state.node = hash.get("n") ?? state.root;
    if (!state.node.startsWith(state.root)) state.node = state.root;
    state.within = hash.get("within") || state.within;
    state.stage = hash.get("stage") || "";
    state.filter = hash.get("state") || "";
    state.day = hash.get("day") || "";  // a past day: the counts as recorded at its end (empty: now)
  }
  function go(patch) {
    const hash = new URLSearchParams({ n: state.node, within: state.within || "", stage: state.stage, state: state.filter, day: state.day || "" });
    for (const [k, v] of Object.entries(patch)) hash.set(k, v ?? "");
    for (const [k, v] of [...hash.entries()]) if (!v) hash.delete(k);
    if (!hash.has("n")) hash.set("n", state.root);
    location.hash = hash.toString();
  }

  // ---- loading ------------------------------------------------------------------------------------
  let loading = null, again = false;
  async function load() {
    if (loading) { again = true; return loading; }
    loading = (async () => {
      try {
        const node = state.node;
        const deep = node.length >= 6;
        const note = $("day-note");
        $("f-day").value = state.day || "";
        $("f-day").max = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
        const [summary, stages, offline, compliance, exceptions] = await Promise.all([
          api("/v1/dashboard/summary", { node, within: state.within, day: state.day }),
          api("/v1/dashboard/stages", { node, stage: state.stage, state: state.filter || (deep ? "" : "breached"), limit: 100 }),
          api("/v1/dashboard/offline", { node }),
          api("/v1/dashboard/compliance", { node }).catch(() => null),
          api("/v1/dashboard/exceptions", { node }).catch(() => null),
        ]);
        if (summary.recorded === false) { note.hidden = false; note.textContent = t("day_none", { day: summary.day }); return; }
        const before = state.summary && state.summary.node === node ? state.summary : null;
        Object.assign(state, { summary, stages, offline, compliance, exceptions });
        note.hidden = !summary.day;
        if (summary.day) note.textContent = t("day_note", { day: summary.day });
        if (!state.within) state.within = String(summary.within);
        render(before);
        $("updated").textContent = `${t("updated")} ${new Date().toLocaleTimeString(state.lang, { hour12: false })}`;
      } catch (e) {
        if (e instanceof Refused && e.status === 401) signOut("expired");
        else if (e instanceof Refused && e.status === 403) { go({ n: state.root }); }
        else console.warn("dashboard load failed", e);
      }
    })();
    await loading;
    loading = null;
    if (again) { again = false; await load(); }
  }

  // ---- rendering ----------------------------------------------------------------------------------
  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function numCell(tr, n, tone) { return cell(tr, String(n), `num ${n ? tone || "" : "zero"}`); }

  function render(before) {
    const s = state.summary;
    if (!s) return;
    $("where").textContent = `${unitName(s)} ${s.code}`;
    $("f-within").value = String(state.within || s.within);
    $("f-stage").value = state.stage;
    $("f-state").value = state.filter;
    $("f-quiet").checked = state.quiet;
    renderCrumbs(s);
    renderKpis(s.totals, before && before.totals);
    $("calendar-note").hidden = !s.calendar.provisional;
    $("calendar-note").textContent = t("provisional_note");
    CHARTS.days($("chart-breaches"), s.breaches, t("chart_breaches_label", {
      total: s.breaches.reduce((a, p) => a + p.n, 0), max: Math.max(0, ...s.breaches.map((p) => p.n)) }), t("chart_empty"));
    const L = Object.fromEntries(s.left);
    CHARTS.buckets($("chart-left"), s.left, {
      overdue: t("st_breached"), 0: t("today"), ">10": "> 10" }, t("chart_left_label", {
      overdue: L.overdue, today: L["0"], one: L["1"], two: L["2"], few: L["3-5"], more: L["6-10"], many: L[">10"] }));
    renderChildren(s, before);
    renderStages();
    renderOffline();
    renderCompliance();
    renderExceptions();
  }

  function renderCrumbs(s) {
    const list = $("crumbs");
    list.replaceChildren();
    s.path.forEach((step, i) => {
      const li = document.createElement("li");
      const last = i === s.path.length - 1;
      const a = document.createElement(last ? "span" : "a");
      a.textContent = `${unitName(step)}`;
      if (last) a.setAttribute("aria-current", "page");
      else { a.href = "#"; a.addEventListener("click", (e) => { e.preventDefault(); go({ n: step.node }); }); }
      li.appendChild(a);
      list.appendChild(li);
    });
    $("crumbs-nav").setAttribute("aria-label", state.lang === "en" ? "Jurisdiction levels" : "层级");
  }

  function renderKpis(k, old) {
    const lv = k.escalated_levels || {};
    const tiles = [
      ["k_open", k.open, "", k.provisional ? `${t("k_provisional")} ${k.provisional}` : ""],
      ["k_due", k.due_within, "warn", t("k_due_sub", { n: state.within || state.summary.within })],
      ["k_breached", k.breached, "late", ""],
      ["k_escalated", k.escalated, "late", t("k_esc_sub", { county: lv.county || 0, city: lv.city || 0, province: lv.province || 0 })],
      ["k_offline", k.offline_pending, "warn", ""],
      ["k_reconciled", k.reconciled, "", ""],
    ];
    const ul = $("kpis");
    ul.replaceChildren();
    for (const [key, value, tone, sub] of tiles) {
      const li = document.createElement("li");
      li.className = `kpi ${tone} ${value ? "" : "zero"}`;
      li.dataset.kpi = key;
      li.innerHTML = '<span class="label"></span><span class="value"></span><span class="sub"></span>';
      li.querySelector(".label").textContent = t(key);
      li.querySelector(".value").textContent = String(value);
      li.querySelector(".sub").textContent = sub;
      const was = old && { k_open: old.open, k_due: old.due_within, k_breached: old.breached, k_escalated: old.escalated,
        k_offline: old.offline_pending, k_reconciled: old.reconciled }[key];
      if (old && was !== value) li.classList.add("flash");
      ul.appendChild(li);
    }
  }

  function renderChildren(s, before) {
    const tbody = $("children").querySelector("tbody");
    tbody.replaceChildren();
    $("children-title").textContent = t("children_of", { name: unitName(s) });
    const rows = [];
    if (s.own) rows.push({ ...s.own, node: s.node, own: true, name: t("own_row", { name: unitName(s) }), code: s.code, spark: [] });
    for (const r of s.children) if (!state.quiet || r.open || r.offline_pending || r.escalated) rows.push(r);
    const old = new Map(((before && before.children) || []).map((r) => [r.node, r]));
    for (const r of rows) {
      const tr = document.createElement("tr");
      tr.dataset.node = r.node;
      if (r.own) tr.className = "own";
      const first = document.createElement("td");
      const a = document.createElement("a");
      a.className = "drill";
      a.href = "#";
      a.textContent = unitName(r);
      const drill = () => (r.own ? showOwn() : go({ n: r.node }));
      a.addEventListener("click", (e) => { e.preventDefault(); drill(); });
      first.appendChild(a);
      if (!r.own && r.name) { const c = document.createElement("span"); c.className = "code"; c.textContent = r.code; first.appendChild(c); }
      tr.appendChild(first);
      tr.addEventListener("click", (e) => { if (e.target.tagName !== "A") drill(); });
      numCell(tr, r.open);
      numCell(tr, r.due_within, "warn");
      numCell(tr, r.breached, "late");
      numCell(tr, r.escalated, "late");
      numCell(tr, r.offline_pending, "warn");
      numCell(tr, r.reconciled);
      const trend = document.createElement("td");
      if (r.spark && r.spark.length) trend.appendChild(CHARTS.spark(r.spark, `${unitName(r)}: ${r.spark.reduce((x, y) => x + y, 0)}`));
      tr.appendChild(trend);
      const was = old.get(r.node);
      if (before && (!was || was.open !== r.open || was.breached !== r.breached || was.due_within !== r.due_within)) tr.classList.add("flash");
      tbody.appendChild(tr);
    }
    $("children-empty").hidden = rows.length > 0;
  }

  function showOwn() { $("stages-panel").scrollIntoView({ behavior: "smooth", block: "start" }); }

  function leftText(v) {
    if (v.working_days_left === null || v.working_days_left === undefined) return "—";
    if (v.working_days_left < 0 || v.state === "breached") return t("days_late", { n: Math.abs(Math.min(0, v.working_days_left)) });
    return v.working_days_left === 0 ? t("today") : String(v.working_days_left);
  }

  // The readable case number beside the internal id (cases numbered before numbers travelled show the id only).
  const caseLabel = (v) => (v.case_number ? `${v.case_number} · ${v.transfer_id}` : v.transfer_id);

  function renderStages() {
    const data = state.stages;
    const tbody = $("stages").querySelector("tbody");
    tbody.replaceChildren();
    const deep = state.node.length >= 6;
    $("stages-title").textContent = t(deep || state.filter ? "stages_title" : "stages_breached_title");
    for (const v of data.stages) {
      const tr = document.createElement("tr");
      tr.dataset.key = v.key;
      tr.tabIndex = 0;
      tr.setAttribute("aria-label", `${caseLabel(v)} ${t(`s_${v.stage}`)} ${t(`st_${v.state}`)}`);
      cell(tr, caseLabel(v)).classList.add("case-no");
      cell(tr, `${t(`s_${v.stage}`)}${v.step ? ` (${v.step})` : ""}`);
      cell(tr, v.jurisdiction_name ? `${v.jurisdiction_name} ${v.jurisdiction}` : v.jurisdiction);
      const st = document.createElement("td");
      const badge = document.createElement("span");
      badge.className = `badge ${v.state}`;
      badge.textContent = t(`st_${v.state}`);
      st.appendChild(badge);
      if (v.state === "breached" && v.escalated_to_level) badge.textContent += ` → ${t(`level_${v.escalated_to_level}`)}`;
      if (v.provisional) { const p = document.createElement("span"); p.className = "badge prov"; p.textContent = t("provisional_mark"); st.appendChild(p); }
      tr.appendChild(st);
      cell(tr, fmtTime(v.opened_at));
      cell(tr, fmtDay(v.due_day));
      cell(tr, leftText(v), `num ${v.state === "breached" ? "late" : v.working_days_left !== null && v.working_days_left <= Number(state.within || 2) ? "warn" : ""}`);
      tr.addEventListener("click", () => openStage(v.key));
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); openStage(v.key); } });
      tbody.appendChild(tr);
    }
    $("stages-count").textContent = data.count ? t("shown", { shown: data.stages.length, count: data.count }) : t("none");
  }

  function renderCompliance() {
    const c = state.compliance;
    $("compliance-panel").hidden = !c || c.total.open === 0;
    if (!c) return;
    const name = (k) => (state.lang.startsWith("zh") ? k.name_zh : k.name_en);
    $("compliance-summary").textContent = t("compliance_summary", { open: c.total.open, soon: c.total.due_soon, late: c.total.overdue });
    const kinds = $("compliance-kinds");
    kinds.replaceChildren();
    for (const k of c.kinds) {
      const li = document.createElement("li");
      li.textContent = t("compliance_kind", { name: name(k), open: k.open, soon: k.due_soon, late: k.overdue });
      kinds.appendChild(li);
    }
    const late = $("compliance-overdue");
    late.replaceChildren();
    const names = Object.fromEntries(c.kinds.map((k) => [k.kind, name(k)]));
    for (const o of c.overdue) {
      const li = document.createElement("li");
      li.className = "late";
      const what = state.lang.startsWith("zh") ? o.subject_zh : o.subject_en;
      li.textContent = t("compliance_item", { rule: o.rule, name: names[o.kind] || o.kind, unit: o.jurisdiction,
        what: what || t("compliance_student"), subject: o.subject_id, due: fmtDay(o.due_day), days: o.overdue_days,
        flagged: o.flagged_to ? t("compliance_flagged", { code: o.flagged_to }) : "" });
      late.appendChild(li);
    }
  }

  // RULES "Exceptions" (R08, R27, R40): every exception to a "generally" rule recorded under the node.
  function renderExceptions() {
    const x = state.exceptions;
    $("exceptions-panel").hidden = !x || x.total === 0;
    if (!x) return;
    const rules = Object.entries(x.by_rule).map(([rule, n]) => `${rule} ${n}`).join(", ");
    $("exceptions-summary").textContent = t("exceptions_summary", { total: x.total, rules });
    const list = $("exceptions-list");
    list.replaceChildren();
    for (const e of x.exceptions.slice(0, 50)) {
      const li = document.createElement("li");
      li.textContent = t("exceptions_item", { rule: e.rule, clause: e.clause, unit: e.jurisdiction,
        operator: e.operator, at: fmtTime(e.occurred_at), subject: e.subject_id, reason: e.reason });
      list.appendChild(li);
    }
  }

  function renderOffline() {
    const cases = (state.offline && state.offline.cases) || [];
    $("offline-panel").hidden = cases.length === 0;
    const ul = $("offline");
    ul.replaceChildren();
    for (const c of cases) {
      const li = document.createElement("li");
      li.textContent = t("offline_item", { transfer: caseLabel(c), receiving: c.receiving_school, sending: c.sending_school,
        at: fmtTime(c.offline_accepted_at || c.offline_opened_at) });
      ul.appendChild(li);
    }
  }

  async function openStage(key) {
    let d;
    try { d = await api(`/v1/dashboard/stages/${encodeURIComponent(key)}`); } catch (e) { return; }
    $("detail-title").textContent = `${caseLabel(d)} · ${t(`s_${d.stage}`)}`;
    const facts = [
      ["d_unit", d.jurisdiction_name ? `${d.jurisdiction_name} ${d.jurisdiction}` : d.jurisdiction],
      ["c_state", t(`st_${d.state}`) + (d.provisional ? ` · ${t("provisional_mark")}` : "")],
      ["d_opened", fmtTime(d.opened_at)],
      ["d_due", `${fmtDay(d.due_day)} 24:00`],
      ["d_left", leftText(d)],
      ["d_escalated", d.escalated_to ? `${t(`level_${d.escalated_to_level}`)} ${d.escalated_to} (×${d.escalation_count})` : "—"],
      ["d_route", `${d.sending_school || "—"} → ${d.receiving_school || "—"}`],
      ["d_student", d.student_id || "—"],
      ["d_calendar", d.calendar_version || "—"],
    ];
    const dl = $("detail-facts");
    dl.replaceChildren();
    for (const [k, v] of facts) {
      const dt = document.createElement("dt"); dt.textContent = t(k);
      const dd = document.createElement("dd"); dd.textContent = v;
      dl.append(dt, dd);
    }
    const ol = $("detail-history");
    ol.replaceChildren();
    for (const h of d.history) {
      const li = document.createElement("li");
      li.className = h.kind;
      const time = document.createElement("time");
      time.dateTime = h.at;
      time.textContent = fmtTime(h.at);
      li.append(time, document.createTextNode(state.lang === "en" ? h.title_en : h.title_zh));
      ol.appendChild(li);
    }
    // Decide it from the workbench: the case with its history, materials and deadline on one page.
    const act = document.createElement("a");
    act.href = `/workbench#/case/${encodeURIComponent(d.transfer_id)}`;
    act.id = "detail-act";
    act.textContent = t("act_in_workbench");
    dl.append(document.createElement("dt"), Object.assign(document.createElement("dd"), { className: "act" }));
    dl.lastChild.append(act);
    $("detail").showModal();
  }

  // ---- live updates: server-sent events over fetch ------------------------------------------------
  function setLive(mode) {
    state.liveState = mode;
    $("live").dataset.state = mode;
    $("live-text").textContent = t(mode === "on" ? "live_on" : mode === "retry" ? "live_retry" : "live_off");
  }
  let pending = null;
  function changed(nodes) {
    const mine = state.node;
    // A change at this node, above it (its totals include ours) or anywhere below it shows here.
    if (!nodes.some((n) => n.startsWith(mine) || mine.startsWith(n))) return;
    clearTimeout(pending);
    pending = setTimeout(load, 250);
  }
  async function live() {
    let backoff = 1000;
    while (state.token) {
      const control = new AbortController();
      state.live = control;
      try {
        const res = await fetch("/v1/dashboard/events", { headers: { Authorization: `Bearer ${state.token}`,
          Accept: "text/event-stream" }, cache: "no-store", signal: control.signal });
        if (res.status === 401) { signOut("expired"); return; }
        if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
        setLive("on");
        backoff = 1000;
        load(); // whatever changed while we were away
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer = (buffer + value).replace(/\r\n|\r(?!$)/g, "\n");
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = "message", data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) event = line.slice(6).trim();
              else if (line.startsWith("data:")) data += line.slice(5).trim();
            }
            if (event === "changed") changed(JSON.parse(data).nodes);
          }
        }
      } catch (e) {
        if (!state.token) return;
      }
      setLive("retry");
      await new Promise((r) => setTimeout(r, backoff + Math.random() * 500));
      backoff = Math.min(backoff * 2, 30000);
    }
  }

  // ---- start --------------------------------------------------------------------------------------
  function start(token) {
    const c = claims(token);
    if (!c || !c.role || c.code === undefined) { signOut("expired"); return; }
    state.token = token;
    state.root = rootOf(c);
    $("signin").hidden = true;
    $("main").hidden = false;
    readHash();
    load();
    live();
  }
  document.addEventListener("DOMContentLoaded", async () => {
    $("lang").addEventListener("click", () => {
      state.lang = state.lang === "zh-CN" ? "en" : "zh-CN";
      localStorage.setItem("xueji.lang", state.lang);
      applyLanguage();
    });
    $("signout").addEventListener("click", () => signOut());
    $("signin-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const token = $("token-input").value.trim();
      sessionStorage.setItem("xueji.token", token);
      $("token-input").value = "";
      start(token);
    });
    $("f-within").addEventListener("change", (e) => go({ within: e.target.value }));
    $("f-stage").addEventListener("change", (e) => go({ stage: e.target.value }));
    $("f-state").addEventListener("change", (e) => go({ state: e.target.value }));
    $("f-day").addEventListener("change", (e) => go({ day: e.target.value }));
    $("f-quiet").addEventListener("change", (e) => { state.quiet = e.target.checked; render(); });
    window.addEventListener("hashchange", () => { if (state.token) { readHash(); load(); } });
    applyLanguage();
    await takeCode();
    const token = takeToken();
    if (token) start(token); else signOut();
  });
})();
