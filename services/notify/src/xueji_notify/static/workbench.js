// The operators' workbench: the session, calls to the four services, the pages' router and shared widgets.
//
// The token is pasted into the sign-in form (or arrives once in the URL fragment from `make run`, removed at
// once) and kept in sessionStorage for this tab only: it never travels in a URL, a cookie or a log line. Every
// call sends it in the Authorization header. A token lasts a working day; before it runs out the page asks the
// configured refresh endpoint for a new one, or asks the operator to sign in again, and sign-out forgets it.
(function () {
  "use strict";
  const TEXT = window.XUEJI_TEXT;
  const $ = (id) => document.getElementById(id);
  const views = new Map();
  const wb = {
    state: { lang: localStorage.getItem("xueji.lang") || "zh-CN", token: null, claims: null, config: null },
    $, views,
  };
  window.XUEJI_WB = wb;

  // ---- text -------------------------------------------------------------------------------------------
  wb.t = function t(key, vars) {
    let s = (TEXT[wb.state.lang] && TEXT[wb.state.lang][key]) || TEXT["zh-CN"][key] || key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replaceAll(`{${k}}`, String(v));
    return s;
  };
  wb.zh = () => wb.state.lang.startsWith("zh");
  wb.pick = (zh, en) => (wb.zh() ? zh : en || zh);
  wb.fmtTime = (iso) => (iso ? new Date(iso).toLocaleString(wb.state.lang, { timeZone: "Asia/Shanghai", hour12: false,
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }) : "—");
  wb.fmtDay = (iso) => (iso ? new Date(iso).toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" }) : "—");
  // A deadline is kept as the moment it ends, 00:00 China time of the day after its last day: shown as that last day.
  wb.fmtDueDay = (iso) => (iso ? wb.fmtDay(new Date(new Date(iso).getTime() - 1000).toISOString()) : "—");

  // ---- elements ---------------------------------------------------------------------------------------
  wb.el = function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
    return node;
  };
  let uid = 0;
  // A labelled control: <label><span>text</span><input id=…></label> plus a hint line tied by aria-describedby.
  wb.field = function field(name, label, control, hintText) {
    // Stable ids (the same after a redraw) unless the page already has one.
    const stable = `f-${name.replace(/[^a-z0-9_-]/gi, "-")}`;
    control.id = control.id || (document.getElementById(stable) ? `${stable}-${(uid += 1)}` : stable);
    control.name = name;
    const hint = wb.el("span", { class: "hint", id: `${control.id}-hint`, "aria-live": "polite", text: hintText || "" });
    control.setAttribute("aria-describedby", hint.id);
    const wrap = wb.el("div", { class: "field", dataset: { field: name } },
      wb.el("label", { for: control.id }, wb.el("span", { class: "label", text: label })), control, hint);
    return wrap;
  };
  wb.input = (attrs) => wb.el("input", attrs);
  wb.select = function select(options, attrs) {
    const s = wb.el("select", attrs);
    for (const [value, label] of options) s.append(wb.el("option", { value, text: label }));
    return s;
  };
  wb.showProblems = function showProblems(form, problems) {
    for (const w of form.querySelectorAll(".field")) {
      const c = w.querySelector("input,select,textarea");
      if (c) c.removeAttribute("aria-invalid");
      const h = w.querySelector(".hint");
      if (h && h.classList.contains("bad")) { h.textContent = ""; h.classList.remove("bad"); }
    }
    let first = null;
    for (const p of problems || []) {
      const name = String(p.field || "").split(".").pop();
      const wrap = form.querySelector(`.field[data-field="${CSS.escape(p.field)}"]`) || form.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
      if (!wrap) continue;
      const c = wrap.querySelector("input,select,textarea");
      c.setAttribute("aria-invalid", "true");
      const h = wrap.querySelector(".hint");
      h.textContent = p.reason;
      h.classList.add("bad");
      first = first || c;
    }
    if (first) first.focus();
  };
  wb.say = function say(text, kind) {
    const s = $("status");
    s.textContent = text || "";
    s.className = `status ${kind || ""}`;
  };
  function detailText(body) {
    if (!body) return "";
    const d = body.detail !== undefined ? body.detail : body;
    if (typeof d === "string") return d;
    if (Array.isArray(d)) return d.map((p) => `${p.field}: ${p.reason}`).join("; ");
    if (d && d.rule) return `${d.rule}: ${d.reason || ""}`;
    return body.reason ? `${body.rule || ""} ${body.reason}` : "";
  }
  wb.detailText = detailText;

  // ---- session ----------------------------------------------------------------------------------------
  function decode(token) {
    try {
      const body = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(decodeURIComponent(escape(atob(body))));
    } catch (e) { return null; }
  }
  let expiryTimer = null;
  function adopt(token) {
    const c = decode(token);
    if (!c || !c.role || c.code === undefined) return false;
    if (c.exp && c.exp * 1000 <= Date.now()) return false;
    wb.state.token = token;
    wb.state.claims = c;
    sessionStorage.setItem("xueji.token", token);
    scheduleRefresh();
    return true;
  }
  function scheduleRefresh() {
    clearTimeout(expiryTimer);
    const exp = (wb.state.claims.exp || 0) * 1000;
    if (!exp) return;
    $("session").className = "muted";
    $("session").removeAttribute("role");
    $("session").textContent = wb.t("session_until", { at: new Date(exp).toLocaleTimeString(wb.state.lang, { hour12: false, hour: "2-digit", minute: "2-digit" }) });
    const refreshAt = Math.max(1000, exp - Date.now() - 10 * 60 * 1000); // ten minutes before expiry
    expiryTimer = setTimeout(refresh, Math.min(refreshAt, 2 ** 31 - 1));
  }
  async function refresh() {
    const url = wb.state.config && wb.state.config.refresh_url;
    if (url) {
      try {
        const res = await fetch(url, { method: "POST", headers: { Authorization: `Bearer ${wb.state.token}` }, cache: "no-store" });
        const body = res.ok ? await res.json() : null;
        if (body && body.token && adopt(body.token)) return;
      } catch (e) { /* fall through: ask the operator */ }
    }
    const left = (wb.state.claims.exp || 0) * 1000 - Date.now();
    if (left <= 0) { signOut("expired"); return; }
    // No fresh token: the operator is told, in the bar (it stays through page changes), when to sign in again.
    const at = new Date(wb.state.claims.exp * 1000).toLocaleTimeString(wb.state.lang, { hour12: false, hour: "2-digit", minute: "2-digit", second: "2-digit" });
    $("session").textContent = wb.t("session_ending", { at });
    $("session").className = "ending";
    $("session").setAttribute("role", "alert");
    wb.say(wb.t("session_ending", { at }), "error");
    expiryTimer = setTimeout(refresh, Math.min(left, 60000));
  }
  function signOut(reason) {
    sessionStorage.removeItem("xueji.token");
    wb.state.token = null;
    wb.state.claims = null;
    clearTimeout(expiryTimer);
    clearInterval(alertTimer);
    $("app").hidden = true;
    $("signin").hidden = false;
    $("signin-reason").textContent = reason ? wb.t(reason) : wb.t("wb_signin_help");
    $("token-input").focus();
  }
  wb.signOut = signOut;
  wb.role = () => (wb.state.claims ? wb.state.claims.role : null);
  wb.code = () => (wb.state.claims ? wb.state.claims.code : null);
  wb.sub = () => (wb.state.claims ? wb.state.claims.sub : null);

  // ---- calls ------------------------------------------------------------------------------------------
  // api("registry", "/v1/students", { method, json, form, query }) -> { status, ok, body } (never throws on HTTP)
  wb.api = async function api(service, path, opts) {
    const o = opts || {};
    const base = (wb.state.config.apis[service] || "");
    const query = new URLSearchParams(Object.entries(o.query || {}).filter(([, v]) => v !== "" && v !== null && v !== undefined));
    const headers = { Authorization: `Bearer ${wb.state.token}`, Accept: o.accept || "application/json" };
    let body;
    if (o.json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(o.json); }
    if (o.form) body = o.form;
    const method = o.method || (body ? "POST" : "GET");
    // Every write is one action with its own Idempotency-Key: if the answer is lost (the network, or the service
    // briefly away with 503) the page sends the same request once more with the same key, and the service answers
    // the first outcome instead of doing it twice.
    if (method !== "GET") headers["Idempotency-Key"] = o.key || `wb-${crypto.randomUUID()}`;
    const url = `${base}${path}${query.toString() ? `?${query}` : ""}`;
    // A write the service takes a while over says so at once, and its button cannot be pressed twice meanwhile.
    const pressed = method !== "GET" && document.activeElement && document.activeElement.tagName === "BUTTON" ? document.activeElement : null;
    if (pressed) pressed.disabled = true;
    const slow = method !== "GET" ? setTimeout(() => wb.say(wb.t("working")), 300) : null;
    let res = null;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        res = await fetch(url, { method, headers, body, cache: "no-store" });
      } catch (e) {
        res = null;
      }
      const retry = method !== "GET" && !(body instanceof FormData) && (res === null || res.status === 503);
      if (!retry || attempt === 1) break;
      const after = Number(res && res.headers.get("retry-after"));
      await new Promise((ok) => setTimeout(ok, 1000 * Math.min(Number.isFinite(after) && after > 0 ? after : 1, 5)));
    }
    if (pressed) {
      pressed.disabled = false;
      if (pressed.isConnected && document.activeElement === document.body) pressed.focus(); // keyboard users stay put
    }
    if (slow) { clearTimeout(slow); if ($("status").textContent === wb.t("working")) wb.say(""); }
    if (res === null) return { status: 0, ok: false, body: null };
    if (res.status === 401) { signOut("expired"); }
    let parsed = null;
    if (o.blob && res.ok) parsed = await res.blob();
    else { try { parsed = await res.json(); } catch (e) { parsed = null; } }
    return { status: res.status, ok: res.ok, body: parsed, headers: res.headers };
  };

  // ---- names: schools and divisions, not only codes -------------------------------------------------
  const names = new Map();
  wb.nameOf = (code) => names.get(code) || null;
  wb.schoolNames = () => [...names].filter(([code]) => code.length === 10).sort();
  wb.unit = (code) => { const n = names.get(code); return n ? `${n}（${code}）` : code; };
  // A text the services wrote with codes (a notification's title) reads with the names the page knows.
  // A code already named by notify ("name（code）", issue 18) stays as it is: only bare codes are named here.
  wb.withNames = (text) => String(text || "").replace(/(?<![\dA-Za-z*（(])(\d{10}|\d{6})(?![\dA-Za-z*）)])/g, (code) => wb.unit(code));
  wb.learnNames = async function learnNames() {
    const answer = await wb.api("registry", "/v1/schools", { query: { under: wb.code().slice(0, 2) } });
    if (answer.ok && answer.body) for (const s of answer.body.schools || []) names.set(s.code, s.name);
    // A bureau's own division by name (the dashboard knows the names of divisions).
    const code = wb.code();
    if (code.length === 6 && !names.has(code)) {
      const node = code.replace(/(00)+$/, "") || code;
      const summary = await wb.api("notify", "/v1/dashboard/summary", { query: { node } });
      if (summary.ok && summary.body.name) names.set(code, summary.body.name);
    }
  };

  // ---- escalations: an unread badge --------------------------------------------------------------
  let alertTimer = null;
  wb.refreshAlerts = async function refreshAlerts() {
    const kinds = ["stage_escalated", "stage_breached"];
    let unread = 0;
    for (const kind of kinds) {
      const answer = await wb.api("notify", "/v1/inbox", { query: { unread: true, kind, limit: 1000 } });
      // Acknowledged by a colleague of the jurisdiction: someone follows it up, so it no longer calls for attention.
      if (answer.ok) unread += answer.body.notifications.filter((n) => !n.acknowledged_at).length;
    }
    $("alerts").hidden = unread === 0;
    $("alerts-count").textContent = String(unread);
    $("alerts").setAttribute("aria-label", wb.t("escalations_unread", { n: unread }));
  };

  // ---- router: #/<view>/<arg> ---------------------------------------------------------------------
  wb.view = function view(name, spec) { views.set(name, spec); };
  wb.go = (hash) => { if (location.hash === hash) route(); else location.hash = hash; };
  function allowed(spec) { return !spec.roles || spec.roles.includes(wb.role()); }
  function renderTabs(current) {
    const list = $("tab-list");
    list.replaceChildren();
    for (const [name, spec] of views) {
      if (!spec.tab || !allowed(spec)) continue;
      const a = wb.el("a", { href: `#/${name}`, text: wb.t(spec.tab) });
      if (name === current) a.setAttribute("aria-current", "page");
      list.append(wb.el("li", {}, a));
    }
    $("tabs").setAttribute("aria-label", wb.t("nav"));
  }
  function firstView() {
    for (const [name, spec] of views) if (spec.tab && allowed(spec)) return name;
    return "inbox";
  }
  // body[data-ready] is "1" once a page is drawn (tests and screen readers wait for it, not for a time).
  let drawings = 0;
  async function route(after) {
    if (!wb.state.token) return;
    document.body.dataset.ready = "0";
    const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    let name = parts[0] || firstView();
    if (!views.has(name) || !allowed(views.get(name))) name = firstView();
    renderTabs(views.get(name).tab ? name : views.get(name).under);
    // Each drawing gets a slot of its own: a route started while another still awaits its answers (a reload, a
    // switch ticked twice) replaces the slot, so the older drawing lands in a detached one instead of beside it.
    const main = wb.el("div", { class: "view-slot" });
    $("view").replaceChildren(main);
    const drawing = ++drawings;
    wb.say("");
    const spec = views.get(name);
    document.title = `${wb.t(spec.title || spec.tab)} · ${wb.t("wb_title")}`;
    try {
      await spec.render(main, ...parts.slice(1));
      if (after && drawing === drawings) after();
    } catch (e) {
      console.warn("view failed", e);
      if (drawing === drawings) wb.say(wb.t("err_network"), "error");
    }
    if (drawing === drawings) document.body.dataset.ready = "1";
  }
  wb.route = route;

  function applyLanguage() {
    document.documentElement.lang = wb.state.lang;
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = wb.t(node.dataset.i18n);
    const other = wb.zh() ? "en" : "zh-CN";
    $("lang").textContent = other === "en" ? "English" : "中文";
    $("lang").lang = other;
    $("lang").setAttribute("aria-label", other === "en" ? "Switch to English" : "切换到中文");
    if (wb.state.claims) {
      $("who").textContent = `${wb.t(`role_${wb.role()}`)} ${wb.unit(wb.code())}`;
      scheduleRefresh();
      // Switching language redraws the page in the other language; what was typed stays typed.
      const typed = [...$("view").querySelectorAll("input:not([type=file]),select,textarea")].map((c) => [c.id, c.value, c.checked]);
      route(() => {
        for (const [id, value, checked] of typed) {
          const c = id && document.getElementById(id);
          if (c) { c.value = value; c.checked = checked; }
        }
      });
    }
  }

  async function start(token) {
    if (!adopt(token)) { signOut("expired"); return; }
    $("signin").hidden = true;
    $("app").hidden = false;
    await wb.learnNames();
    applyLanguage();
    wb.refreshAlerts();
    alertTimer = setInterval(wb.refreshAlerts, 30000);
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const res = await fetch("/workbench/config.json", { cache: "no-store" });
    wb.state.config = await res.json();
    $("lang").addEventListener("click", () => {
      wb.state.lang = wb.zh() ? "en" : "zh-CN";
      localStorage.setItem("xueji.lang", wb.state.lang);
      applyLanguage();
    });
    $("signout").addEventListener("click", () => signOut());
    $("signin-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const token = $("token-input").value.trim();
      $("token-input").value = "";
      start(token);
    });
    window.addEventListener("hashchange", () => route());
    applyLanguage();
    // `make run` prints a link carrying a development token in the fragment (never sent to a server): take it
    // into this tab's storage and drop it from the address bar and history at once.
    const hash = new URLSearchParams(location.hash.slice(1));
    const fromUrl = hash.get("token");
    if (fromUrl) {
      sessionStorage.setItem("xueji.token", fromUrl);
      history.replaceState(null, "", location.pathname);
    }
    // A sign-in link of the local stack carries a one-time code, not a token: traded once for the token, then spent.
    const code = hash.get("code");
    if (code && wb.state.config.exchange_url) {
      history.replaceState(null, "", location.pathname);
      try {
        const res = await fetch(wb.state.config.exchange_url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code }), cache: "no-store" });
        const body = res.ok ? await res.json() : null;
        if (body && body.token) sessionStorage.setItem("xueji.token", body.token);
      } catch (e) { /* the sign-in form below says what to do */ }
    }
    const token = sessionStorage.getItem("xueji.token");
    if (token) start(token); else signOut();
  });
})();
