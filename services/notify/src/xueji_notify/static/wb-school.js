// The school clerk's pages: enroll one student (R01, R06, R14), upload a class, the school's inbox.
(function () {
  "use strict";
  const wb = window.XUEJI_WB;
  const { el, t } = wb;
  const ID = window.XUEJI_ID;

  function thisYear() {
    const now = new Date();
    return now.getMonth() >= 7 ? now.getFullYear() : now.getFullYear() - 1; // school year starts in September
  }

  // ---- enroll one student --------------------------------------------------------------------------
  let lastVerdict = null;
  // The request refused after its duplicate check (R02 for its grade, R01, ...) that the next submission corrects: sent
  // as `corrects`, so that dedupe, which may not have read the refusal yet, does not refuse the correction as a
  // duplicate of it (R01).
  let correcting = null;
  wb.view("enroll", { tab: "tab_enroll", roles: ["school"], render(main) {
    const school = wb.code();
    const idInput = wb.input({ type: "text", inputmode: "text", autocomplete: "off", maxlength: "18", spellcheck: "false" });
    const birth = wb.input({ type: "date", required: true });
    const gender = wb.select([["", t("choose")], ["male", t("male")], ["female", t("female")]], { required: true });
    const grade = wb.select([...Array(12)].map((_, i) => [String(i + 1), t("grade_n", { n: i + 1 })]));
    const form = el("form", { class: "fields", novalidate: true, "aria-labelledby": "enroll-title" },
      wb.field("school_code", t("school"), wb.input({ type: "text", value: school, readonly: true }), wb.nameOf(school) || ""),
      wb.field("name", t("name"), wb.input({ type: "text", required: true, maxlength: "50", autocomplete: "off" })),
      wb.field("id_number", t("id_number"), idInput, t("id_hint")),
      wb.field("gender", t("gender"), gender),
      wb.field("birth_date", t("birth_date"), birth),
      wb.field("grade", t("grade"), grade),
      wb.field("school_year", t("school_year"), wb.input({ type: "number", min: "2000", max: "2099", value: String(thisYear()), required: true })),
      wb.field("segment", t("segment"), wb.select([["", t("segment_auto")], ["primary", t("seg_primary")], ["junior", t("seg_junior")], ["senior", t("seg_senior")]])),
      wb.field("admitted_on", t("admitted_on"), wb.input({ type: "date" }), t("admitted_hint")),
      wb.field("ethnicity", t("ethnicity"), wb.input({ type: "text", maxlength: "20" })),
      wb.field("home_address", t("home_address"), wb.input({ type: "text", maxlength: "200" })),
      wb.field("guardian_name", t("guardian_name"), wb.input({ type: "text", maxlength: "50" })),
      wb.field("guardian_phone", t("guardian_phone"), wb.input({ type: "tel", maxlength: "30" })),
      el("div", { class: "actions" }, el("button", { type: "submit", class: "primary", text: t("enroll_submit") })));
    const answerBox = el("div", { id: "enroll-answer", "aria-live": "polite" });
    main.append(el("section", { class: "panel" }, el("h2", { id: "enroll-title", text: t("enroll_title") }),
      el("p", { class: "muted", text: t("enroll_help") }), form, answerBox));

    if (lastVerdict) answerBox.append(renderVerdict(lastVerdict));
    // As typed: the GB 11643 reason under the field; the birth date and gender follow a valid number.
    const idHint = form.querySelector(`#${idInput.id}-hint`);
    idInput.addEventListener("input", () => {
      const problem = ID.problem(idInput.value);
      idInput.setAttribute("aria-invalid", problem ? "true" : "false");
      idHint.className = `hint ${problem ? "bad" : idInput.value ? "good" : ""}`;
      idHint.textContent = problem ? t(problem.key, problem.vars) : idInput.value ? t("id_ok") : t("id_hint");
      if (!problem && idInput.value.length === 18) {
        if (!birth.value) birth.value = ID.birthDate(idInput.value);
        if (!gender.value) gender.value = ID.gender(idInput.value);
      }
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const v = Object.fromEntries(new FormData(form).entries());
      const local = [];
      if (!v.name.trim()) local.push({ field: "name", reason: t("required") });
      if (!v.gender) local.push({ field: "gender", reason: t("required") });
      if (!v.birth_date) local.push({ field: "birth_date", reason: t("required") });
      const idProblem = ID.problem(v.id_number);
      if (idProblem) local.push({ field: "id_number", reason: t(idProblem.key, idProblem.vars) });
      wb.showProblems(form, local);
      if (local.length) { wb.say(t("fix_fields"), "error"); return; }
      const basic = {};
      for (const k of ["ethnicity", "home_address", "guardian_name", "guardian_phone"]) if (v[k].trim()) basic[k] = v[k].trim();
      const body = { school_code: school, name: v.name.trim(), id_number: v.id_number.trim() || null, gender: v.gender,
        birth_date: v.birth_date, grade: Number(v.grade), school_year: Number(v.school_year) };
      if (v.segment) body.segment = v.segment;
      if (v.admitted_on) body.admitted_on = v.admitted_on;
      if (Object.keys(basic).length) body.basic = basic;
      if (correcting) body.corrects = correcting;
      wb.say(t("working"));
      const answer = await wb.api("registry", "/v1/students", { json: body });
      const detail = (answer.body && answer.body.detail) || {};
      if (answer.status === 409 && detail.state === "refused" && detail.student_id) correcting = detail.student_id;
      else if (answer.ok || wb.problemsOf(answer).some((p) => p.field === "corrects")) correcting = null;
      wb.say("");
      lastVerdict = answer;
      answerBox.replaceChildren(renderVerdict(answer), ...warningsOf(answer.body));
      if (!answer.ok) wb.showProblems(form, wb.problemsOf(answer));
      else wb.showProblems(form, []);
      answerBox.querySelector("h3").focus();
    });
  } });

  // What the request said against its own ID number (a birth date or gender typo): enrolled all the same, to check.
  // Rows of students uploaded before with other data: the first request stands; each differing field is listed.
  // Rows whose request was refused, sent again as they were: still refused, with the rule and reason (correct them
  // and send them again: a corrected row is a new request).
  // A note said already (`said`, in the page's language) is shown as it is; one about the whole row names no column.
  function rowNotesOf(found, id, title) {
    if (!found.length) return [];
    const list = el("ul", {}, ...found.map((w) => el("li", { dataset: { row: w.row, field: w.field },
      text: `${t("row")} ${w.row}${w.field === "row" && !w.column ? "" : ` · ${w.column || t(w.field)}`}: ${w.said || wb.reasonText(w.reason)}` })));
    return [el("div", { class: "answer held", id, role: "note" }, el("h3", { text: title }), list)];
  }
  function notAppliedOf(body) {
    const found = (body && body.not_applied) || [];
    const count = body.already_requested_otherwise || new Set(found.map((w) => w.row)).size;
    return rowNotesOf(found, "not-applied", t("not_applied", { n: count }));
  }
  // Each row's refusal said as the verdict table says it (its rule's advice in the page's language) with the
  // existing record; the entry's `reason` is the registry's English sentence (a registry before `refusal` sends
  // only that).
  function stillRefusedOf(body) {
    const found = ((body && body.refused) || []).map((w) => (!w.refusal ? w : { ...w,
      said: [wb.verdictText({ kind: "refused", refusal: w.refusal }),
        w.refusal.existing_student_id ? `${t("existing_record")}${wb.zh() ? "：" : ": "}${w.refusal.existing_student_id}` : ""].filter(Boolean).join(wb.zh() ? "；" : "; ") }));
    return rowNotesOf(found, "still-refused", t("still_refused", { n: body.still_refused || found.length }));
  }

  function warningsOf(body) {
    const found = (body && body.warnings) || [];
    if (!found.length) return [];
    const list = el("ul", {}, ...found.map((w) => el("li", { dataset: { field: w.field },
      text: `${w.row ? `${t("row")} ${w.row} · ` : ""}${w.column || t(w.field)}: ${wb.reasonText(w.reason)}` })));
    return [el("div", { class: "answer held", id: "warnings", role: "note" }, el("h3", { text: wb.t("warnings") }), list)];
  }

  // The R01/R14 answer in words: enrolled, refused with the existing record, held for the county's review.
  function renderVerdict(answer) {
    const box = (cls, title, ...lines) => el("div", { class: `answer ${cls}`, dataset: { verdict: cls } },
      el("h3", { tabindex: "-1", text: title }), ...lines.map((l) => el("p", { text: l })));
    const b = answer.body || {};
    if (answer.status === 201 && b.state === "pending_review") {
      return box("held", t("v_held"), t("v_held_text"), `${t("student_id")}: ${b.student_id}`);
    }
    if (answer.status === 201) {
      return box("ok", t("v_enrolled"), `${t("status_number")}: ${b.status_number_masked || "—"}`, `${t("student_id")}: ${b.student_id}`,
        Object.entries(b.supplementary_numbers || {}).map(([k, n]) => `${t("supplementary")} (${k}): ${n}`).join("; ") || "");
    }
    if (answer.status === 202) return box("held", t("v_pending"), t("v_pending_text"), `${t("student_id")}: ${b.student_id}`);
    if (answer.status === 409) {
      const d = b.detail || {};
      return box("refused", t("v_refused", { rule: d.rule || "R01" }), d.reason || "",
        `${t("existing_record")}: ${d.existing_student_id || "—"}${d.existing_school_code ? ` · ${wb.unit(d.existing_school_code)}` : ""}`);
    }
    return box("refused", t("v_invalid"), wb.failure(answer));
  }
  wb.renderVerdict = renderVerdict;

  // ---- upload a class ------------------------------------------------------------------------------
  let lastUpload = null; // redrawn after a language switch
  wb.view("upload", { tab: "tab_upload", roles: ["school"], render(main) {
    const file = wb.input({ type: "file", accept: ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", required: true });
    const year = wb.input({ type: "number", min: "2000", max: "2099", value: String(thisYear()), required: true });
    const progress = el("progress", { max: "100", value: "0", hidden: true, "aria-label": t("upload_progress") });
    const form = el("form", { class: "fields", "aria-labelledby": "upload-title" },
      wb.field("file", t("class_file"), file, t("class_file_hint")),
      wb.field("school_year", t("school_year"), year),
      el("div", { class: "actions" }, el("button", { type: "submit", class: "primary", text: t("upload_submit") }), progress));
    const result = el("div", { id: "upload-result", "aria-live": "polite" });
    main.append(el("section", { class: "panel" }, el("h2", { id: "upload-title", text: t("upload_title") }),
      el("p", { class: "muted", text: t("upload_help") }), form, result));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!file.files.length) { wb.showProblems(form, [{ field: "file", reason: t("required") }]); return; }
      const chosen = file.files[0];
      let table = null;
      try {
        table = /\.csv$/i.test(chosen.name) ? parseCsv(await readCsvText(chosen)) : /\.xlsx$/i.test(chosen.name) ? await readXlsx(chosen) : null;
      } catch (err) { table = null; } // the server still reads it and reports; only the fix grid is lost
      await send(chosen, chosen.name, table);
    });

    async function send(blob, filename, table) {
      const data = new FormData();
      data.append("file", blob, filename);
      data.append("school_code", wb.code());
      data.append("school_year", year.value);
      progress.hidden = false;
      progress.value = 0;
      wb.say(t("uploading"));
      const answer = await upload(data, (p) => { progress.value = p; });
      progress.hidden = true;
      wb.say("");
      show(answer, table);
    }

    function show(answer, table) {
      lastUpload = { answer, table };
      result.replaceChildren();
      if (!answer.ok) {
        result.append(el("div", { class: "answer refused" }, el("h3", { tabindex: "-1", text: t("upload_refused") }), el("p", { text: wb.failure(answer) })));
        result.querySelector("h3").focus();
        return;
      }
      const b = answer.body;
      const badRows = [...new Set(b.errors.map((x) => x.row))];
      // Every row counted once (registry bulk.summary): rows = submitted now or before + still refused + bad rows.
      const again = b.already_requested + (b.already_requested_otherwise || 0);
      const refused = b.still_refused || 0;
      const done = { rows: b.rows, ok: b.requested + again, refused, bad: badRows.length };
      // A still-refused row is a row to correct as much as a bad one: not all good.
      const verdict = badRows.length ? "some_bad" : refused ? "some_refused" : "all_good";
      result.append(el("div", { class: `answer ${verdict === "all_good" ? "ok" : "held"}`, dataset: { verdict } },
        el("h3", { tabindex: "-1", text: t(refused ? "upload_done_refused" : "upload_done", done) }),
        el("p", { text: t("upload_counts", { requested: b.requested, again }) })));
      if ((b.students || []).length) result.append(wb.verdictProgress(b.students));
      result.append(...stillRefusedOf(b), ...notAppliedOf(b), ...warningsOf(b));
      if (b.errors.length) {
        const tbody = el("tbody");
        for (const x of b.errors) {
          tbody.append(el("tr", { dataset: { row: x.row } }, el("td", { class: "num", text: String(x.row) }),
            el("td", { text: x.column || x.field }), el("td", { class: "why", text: wb.reasonText(x.reason) })));
        }
        result.append(el("h3", { text: t("bad_rows") }), el("div", { class: "scroll" }, el("table", { class: "grid", id: "row-errors" },
          el("caption", { class: "visually-hidden", text: t("bad_rows") }),
          el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("row") }), el("th", { scope: "col", text: t("column") }), el("th", { scope: "col", text: t("why") }))),
          tbody)));
        if (table) result.append(fixGrid(table, badRows, b.errors));
        else result.append(el("p", { class: "muted", text: t("fix_in_file") })); // a file the page could not read
      }
      result.querySelector("h3").focus();
    }

    // The bad rows of a CSV, editable in place; only they are sent again (the upload is idempotent per row).
    function fixGrid(table, badRows, errors) {
      const header = table[0];
      const tbody = el("tbody");
      for (const r of badRows) {
        const cells = table[r - 1] || [];
        const tr = el("tr", { dataset: { row: r } }, el("th", { scope: "row", text: String(r) }));
        header.forEach((h, i) => {
          const bad = errors.some((x) => x.row === r && (x.column === h));
          const input = wb.input({ type: "text", value: cells[i] || "", "aria-label": t("cell_label", { row: r, column: h }), "aria-invalid": bad ? "true" : null });
          tr.append(el("td", {}, input));
        });
        tbody.append(tr);
      }
      const button = el("button", { type: "button", class: "primary", id: "resend-bad", text: t("resend_bad", { n: badRows.length }) });
      button.addEventListener("click", () => {
        const rows = [header, ...[...tbody.querySelectorAll("tr")].map((tr) => [...tr.querySelectorAll("input")].map((i) => i.value))];
        const csv = rows.map((r) => r.map(csvCell).join(",")).join("\r\n");
        send(new Blob(["\ufeff", csv], { type: "text/csv" }), "fixed-rows.csv", rows);
      });
      return el("section", { "aria-labelledby": "fix-title" }, el("h3", { id: "fix-title", text: t("fix_title") }),
        el("div", { class: "scroll" }, el("table", { class: "grid", id: "fix-rows" },
          el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("row") }), ...header.map((h) => el("th", { scope: "col", text: h })))), tbody)),
        el("p", {}, button));
    }
    if (lastUpload) show(lastUpload.answer, lastUpload.table);
  } });

  // ---- the school's rosters: the annual rosters (R54) and a graduation roster (R46), submitted to the county ---
  wb.view("school-rosters", { tab: "tab_school_rosters", roles: ["school"], render: async (main) => {
    const school = wb.code();
    const year = thisYear();
    const annual = await wb.api("registry", `/v1/rosters/annual/${school}/${year}`);
    const box = el("section", { class: "panel", id: "annual-roster", "aria-labelledby": "annual-title" },
      el("h2", { id: "annual-title", text: t("annual_title", { year }) }));
    if (annual.ok) {
      const r = annual.body;
      const dl = el("dl", { class: "facts" });
      for (const [k, n] of Object.entries(r.counts || {})) dl.append(el("dt", { text: t(`rc_${k}`) }), el("dd", { dataset: { count: k }, text: String(n) }));
      dl.append(el("dt", { text: t("c_due") }), el("dd", { text: `${wb.fmtDueDay(r.due_at)} 24:00` }));
      box.append(dl);
      if (r.submitted) box.append(el("p", { class: "answer ok", dataset: { verdict: "submitted" }, text: t("roster_submitted_at", { at: wb.fmtTime(r.submitted.submitted_at || r.submitted.at) }) }));
      else {
        const b = el("button", { type: "button", class: "primary", text: t("submit_annual") });
        b.addEventListener("click", async () => {
          const done = await wb.api("registry", `/v1/rosters/annual/${school}/${year}/submission`, { json: {} });
          if (!done.ok) { wb.say(wb.failure(done), "error"); return; }
          await wb.route();
          wb.say(t("annual_submitted"));
        });
        box.append(el("p", {}, b));
      }
    } else box.append(el("p", { text: wb.failure(annual) }));
    main.append(box, wb.graduationPanel());
  } });

  // One Idempotency-Key per upload: an answer lost on its way back (the network, a gateway's 502-504, the registry
  // restarting: 503, or the first send still running: 409 with Retry-After) is asked again with it, twice at most,
  // and the registry answers what the first send did: the rows it requested are told as requested, not as before.
  async function upload(data, onProgress) {
    const key = `wb-${crypto.randomUUID()}`;
    let answer = null;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      if (attempt) await new Promise((ok) => setTimeout(ok, 1000 * attempt));
      answer = await send(data, key, onProgress);
      const lost = answer.status === 0 || [502, 503, 504].includes(answer.status);
      if (!lost && !(answer.status === 409 && answer.headers.get("retry-after"))) break;
    }
    return answer;
  }
  function send(data, key, onProgress) {
    // XHR rather than fetch: it reports upload progress for a large class.
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `${wb.state.config.apis.registry}/v1/students/bulk`);
      xhr.setRequestHeader("Authorization", `Bearer ${wb.state.token}`);
      xhr.setRequestHeader("Idempotency-Key", key);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(Math.round((100 * e.loaded) / e.total)); };
      xhr.onload = () => { let body = null; try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        resolve({ status: xhr.status, ok: xhr.status >= 200 && xhr.status < 300, body, headers: { get: (n) => xhr.getResponseHeader(n) } }); };
      xhr.onerror = () => resolve({ status: 0, ok: false, body: null });
      xhr.send(data);
    });
  }
  async function readCsvText(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    try { return new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\ufeff/, ""); }
    catch (e) { return new TextDecoder("gb18030").decode(bytes); }
  }
  function parseCsv(text) {
    const rows = [];
    let row = [], cell = "", quoted = false;
    for (let i = 0; i < text.length; i += 1) {
      const c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 1; } else if (c === '"') quoted = false; else cell += c;
      } else if (c === '"') quoted = true;
      else if (c === ",") { row.push(cell); cell = ""; }
      else if (c === "\n" || c === "\r") { if (c === "\r" && text[i + 1] === "\n") i += 1; row.push(cell); rows.push(row); row = []; cell = ""; }
      else cell += c;
    }
    if (cell || row.length) { row.push(cell); rows.push(row); }
    return rows;
  }
  // ---- the first sheet of an XLSX, for the fix grid: a zip of XML parts, inflated by the browser itself --------
  async function readXlsx(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const view = new DataView(bytes.buffer);
    let end = bytes.length - 22;
    while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end -= 1;
    if (end < 0) return null;
    const entries = new Map();
    let at = view.getUint32(end + 16, true);
    for (let n = view.getUint16(end + 10, true); n > 0; n -= 1) {
      const nameLength = view.getUint16(at + 28, true), extra = view.getUint16(at + 30, true), comment = view.getUint16(at + 32, true);
      const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
      entries.set(name, { method: view.getUint16(at + 10, true), size: view.getUint32(at + 20, true), offset: view.getUint32(at + 42, true) });
      at += 46 + nameLength + extra + comment;
    }
    async function part(name) {
      const e = entries.get(name);
      if (!e) return null;
      const start = e.offset + 30 + view.getUint16(e.offset + 26, true) + view.getUint16(e.offset + 28, true);
      const raw = bytes.subarray(start, start + e.size);
      const data = e.method === 0 ? raw : new Uint8Array(await new Response(new Blob([raw]).stream().pipeThrough(new DecompressionStream("deflate-raw"))).arrayBuffer());
      return new DOMParser().parseFromString(new TextDecoder().decode(data), "application/xml");
    }
    const shared = await part("xl/sharedStrings.xml");
    const strings = shared ? [...shared.getElementsByTagName("si")].map((si) => [...si.getElementsByTagName("t")].map((x) => x.textContent).join("")) : [];
    const sheetName = [...entries.keys()].filter((k) => /^xl\/worksheets\/sheet\d+\.xml$/.test(k)).sort()[0];
    const sheet = sheetName && await part(sheetName);
    if (!sheet) return null;
    const rows = [];
    for (const row of sheet.getElementsByTagName("row")) {
      const r = Number(row.getAttribute("r")) - 1;
      const cells = [];
      for (const c of row.getElementsByTagName("c")) {
        const col = [...(c.getAttribute("r") || "A").replace(/\d+/g, "")].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0) - 1;
        const type = c.getAttribute("t");
        const v = c.getElementsByTagName("v")[0];
        cells[col] = type === "s" ? strings[Number(v && v.textContent)] : type === "inlineStr" ? [...c.getElementsByTagName("t")].map((x) => x.textContent).join("") : v ? v.textContent : "";
      }
      rows[r] = [...cells].map((x) => x ?? "");
    }
    const table = [...rows].map((x) => x || []);
    // Dates are stored as day numbers since 1899-12-30; the upload reads 出生日期 / 入学日期 as dates.
    const header = table[0] || [];
    header.forEach((h, i) => {
      if (!/日期|date/i.test(String(h))) return;
      for (const line of table.slice(1)) {
        const n = Number(line[i]);
        if (line[i] !== "" && Number.isFinite(n) && n > 1000 && n < 100000) line[i] = new Date(Date.UTC(1899, 11, 30) + Math.round(n) * 86400000).toISOString().slice(0, 10);
      }
    });
    return table;
  }
  wb.readXlsx = readXlsx;

  function csvCell(v) { const s = String(v ?? ""); return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; }
  wb.parseCsv = parseCsv;
})();
