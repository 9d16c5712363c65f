// What a failed call means for the operator, in the operator's language: the services answer in English with a
// status, a field and a reason (422), or a rule id (403/409); the page says what to do, in Chinese or English, and
// keeps the field highlighted. The service's own words follow in English only (a Chinese page names the rule).
(function () {
  "use strict";
  const wb = window.XUEJI_WB;
  const TEXT = window.XUEJI_TEXT;
  Object.assign(TEXT["zh-CN"], {
    err_unavailable: "系统暂时不可用，请 {n} 秒后重试（已填写的内容仍保留）。", err_unavailable_later: "系统暂时不可用，请稍后重试（已填写的内容仍保留）。",
    err_too_large: "文件太大：请拆分后分批上传。", err_server_id: "服务出错：请稍后重试；仍不行请把编号 {id} 告知系统管理员。",
    err_rule: "按 {rule} 的规定不能办理：请核对后再办，或联系县级教育局。", err_in_flight: "同一操作仍在处理中：请 {n} 秒后刷新页面查看结果，不要重复提交。",
    do_R01: "该学生已有学籍（一人一号）：请核对已有学籍，不要重复建籍；学生来自其他学校请办理转学。",
    do_R06: "身份证件号有误：请对照户口簿核对后重新输入。",
    do_R14: "与已有学籍疑似重复：请等待县级教育局复核后再办理。",
    do_R21: "办理顺序不对：请先完成前面的步骤（刷新页面可看到当前进度）。",
    do_R23: "线下通道条件未满足：须由转入地教育局签署同意并写明原因。",
    do_R25: "7月15日至8月14日全国暂停发起转学：请8月15日以后再登记申请。",
    do_R26: "毕业后跨省升学只能在规定时段内发起：请在开放时段内登记。",
    do_R27: "不在转学办理时段：确有必要的，请转入地县级教育局先登记例外，再在申请中填写例外编号。",
    do_R28: "学生当前的学籍状态不能转学：休学学生须先在原学校复学。",
    do_R29: "转学原因不符合本省规定：请按规定选择原因及迁移的监护人。",
    do_R30: "申请材料不全：请按材料清单补齐后再提交。",
    do_R33: "撤回误转只能由县级学籍主管部门在学生毕业后6个月内办理。",
    do_R46: "毕业名册当前状态不允许此操作：已报送的名册须等待县级教育局审核，被退回后修改再报送；没有毕业年级在籍学生的学段不能生成名册。",
    do_R50: "不在您的管辖范围或权限内：请由负责的单位办理。",
    do_R54: "学年名册已报送，无需再报。",
    // The services' reasons for a field, as pydantic and the rules write them (pattern -> Chinese).
    r_required: "必填", r_min: "至少 {n} 个字符", r_max: "最多 {n} 个字符", r_pattern: "格式不对", r_date: "不是有效日期（年-月-日）",
    r_ge: "不得小于 {n}", r_le: "不得大于 {n}", r_one_of: "应为以下之一：{list}", r_extra: "不接受此项", r_number: "应为数字",
    r_id_len: "应为18位", r_id_check: "校验码不符（GB 11643，ISO 7064 MOD 11-2）：请核对最后一位",
    r_id_born: "{said} 与身份证件号中的出生日期（{born}）不一致：请核对后更正有误的一项",
    r_id_gender: "性别与身份证件号不一致（第17位为 {digit}，应为{gender}）：请核对后更正有误的一项",
    r_born_late: "出生日期 {said} 晚于入学时间：请核对", r_admitted_future: "入学日期晚于今天（北京时间）：入学后才能建立学籍，请核对入学日期",
    r_grade_past: "{grade} 年级已超过本学段的毕业年级（{last} 年级）：请核对年级", r_excel_number: "Excel 把身份证件号存成了数字，只保留了前15位：请把该列设为“文本”格式后重新输入",
    warnings: "请核对（已建籍，不影响办理）",
  });
  Object.assign(TEXT.en, {
    err_unavailable: "The system is briefly unavailable: try again in {n} seconds (what you typed is kept).",
    err_unavailable_later: "The system is briefly unavailable: try again shortly (what you typed is kept).",
    err_too_large: "The file is too large: split it and upload the parts one after another.",
    err_server_id: "The service failed: try again shortly; if it persists, give the administrator the reference {id}.",
    err_rule: "{rule} does not allow this: check and try again, or ask the county bureau.",
    err_in_flight: "The same action is still being processed: reload in {n} seconds to see its outcome; do not submit it again.",
    do_R01: "The student already has a status record (one person, one number): check the existing record instead of enrolling again; a student from another school transfers.",
    do_R06: "The ID number is wrong: compare it with the household register and type it again.",
    do_R14: "A suspected duplicate of an existing record: wait for the county bureau's review.",
    do_R21: "Out of order: finish the earlier steps first (reload to see where the case stands).",
    do_R23: "The offline path is not open: the receiving bureau signs its consent with the cause first.",
    do_R25: "New transfers are closed nationwide from 15 July to 14 August: apply from 15 August.",
    do_R26: "A graduate's inter-provincial progression may be started only in the open periods.",
    do_R27: "Outside the transfer periods: if it must happen, the receiving county bureau records an exception first and the application names it.",
    do_R28: "The student's present status cannot transfer: a suspended student resumes at the original school first.",
    do_R29: "The reason does not meet the province's rules: choose a listed reason and the guardians who moved.",
    do_R30: "Materials are missing: complete the checklist and submit again.",
    do_R33: "Only the county status office may roll back, within 6 months after graduation.",
    do_R46: "The graduation roster's state does not allow this: a submitted roster waits for the county bureau; a returned one is corrected and submitted again; a segment without graduation-grade students has no roster.",
    do_R50: "Outside your jurisdiction or role: the responsible unit must do this.",
    do_R54: "The annual rosters were already submitted.",
    r_required: "required", r_min: "at least {n} characters", r_max: "at most {n} characters", r_pattern: "wrong format", r_date: "not a valid date (year-month-day)",
    r_ge: "at least {n}", r_le: "at most {n}", r_one_of: "one of: {list}", r_extra: "not accepted here", r_number: "must be a number",
    r_id_len: "must be 18 characters", r_id_check: "the check character does not match (GB 11643, ISO 7064 MOD 11-2): check the last character",
    r_id_born: "{said} is not the birth date in the ID number ({born}): correct whichever is wrong",
    r_id_gender: "the gender is not the one in the ID number (its 17th digit is {digit}: {gender}): correct whichever is wrong",
    r_born_late: "the birth date {said} is after the admission: check it",
    r_admitted_future: "the admission date is in the future (China time): status is established after admission; check the date",
    r_grade_past: "grade {grade} is past the segment's graduation grade ({last}): check the grade",
    r_excel_number: "Excel kept this ID number as a number and only its first 15 digits: format the column as text and type it again",
    warnings: "Please check (enrolled all the same)",
  });

  const REASONS = [
    [/^Field required$/, () => wb.t("r_required")],
    [/^String should have at least (\d+) characters?/, (m) => wb.t("r_min", { n: m[1] })],
    [/^String should have at most (\d+) characters?/, (m) => wb.t("r_max", { n: m[1] })],
    [/^String should match pattern/, () => wb.t("r_pattern")],
    [/^Input should be a valid (date|datetime)/, () => wb.t("r_date")],
    [/^Input should be a valid (integer|number)/, () => wb.t("r_number")],
    [/^Input should be greater than or equal to (\S+)/, (m) => wb.t("r_ge", { n: m[1] })],
    [/^Input should be less than or equal to (\S+)/, (m) => wb.t("r_le", { n: m[1] })],
    [/^Input should be (('[^']*'(, | or )?)+)$/, (m) => wb.t("r_one_of", { list: m[1].replace(/'/g, "").replace(/ or /g, ", ") })],
    [/^Extra inputs are not permitted/, () => wb.t("r_extra")],
    // GB 11643 (R06), in the words the page's own check uses.
    [/must be 18 characters/, () => wb.t("r_id_len")],
    [/must be 17 digits/, () => wb.t("id_shape")],
    [/birth date (\d{8}) is not a valid date/, (m) => wb.t("id_birth", { date: m[1] })],
    [/region code (\d{6}) is not an administrative division/, (m) => wb.t("id_region", { code: m[1] })],
    [/check character does not match/, () => wb.t("r_id_check")],
    // What a request says against its own ID number (warnings, enrollment_request.contradictions).
    [/^(\S+) is not the birth date in the ID number \((\S+)\)/, (m) => wb.t("r_id_born", { said: m[1], born: m[2] })],
    [/is not the gender in the ID number \(its 17th digit, (\d), is \w+: (\w+)\)/,
      (m) => wb.t("r_id_gender", { digit: m[1], gender: wb.zh() ? (m[2] === "male" ? "男" : "女") : m[2] })],
    [/^(\S+) is after the/, (m) => wb.t("r_born_late", { said: m[1] })],
    [/^Excel kept this ID number as a number/, () => wb.t("r_excel_number")],
    // R02: an admission date in the future (refused when asked; at the record's creation before) or a grade too high.
    [/admission date (\S+ )?is in the future/, () => wb.t("r_admitted_future")],
    [/^grade (\d+) is past the graduation grade (\d+)/, (m) => wb.t("r_grade_past", { grade: m[1], last: m[2] })],
  ];
  const RULE = /^(R\d{2})\b/;

  // One reason in the operator's language: a rule's refusal says what to do; a known wording is translated.
  function reasonText(reason, rule) {
    const text = String(reason || "");
    const r = rule || (text.match(RULE) || [])[1];
    for (const [pattern, say] of REASONS) {
      const m = text.replace(RULE, "").replace(/^:\s*/, "").match(pattern);
      if (m) return say(m);
    }
    if (r && TEXT["zh-CN"][`do_${r}`]) return wb.zh() ? `${wb.t(`do_${r}`)}（${r}）` : `${wb.t(`do_${r}`)} (${r}: ${text.replace(RULE, "").replace(/^:\s*/, "")})`;
    return wb.zh() && r ? wb.t("err_rule", { rule: r }) : text;
  }

  // The refusal a body carries, whichever shape the service answers in: {rule, reason} at the top (transfer),
  // {detail: {rule, reason, field}} (registry), or a sentence "R50: ..." in detail.
  function refusalOf(body) {
    if (!body) return null;
    const d = body.detail;
    if (d && !Array.isArray(d) && typeof d === "object" && (d.rule || d.reason)) return { rule: d.rule, reason: d.reason, field: d.field };
    if (body.rule) return { rule: body.rule, reason: body.reason, field: body.field };
    if (typeof d === "string" && RULE.test(d)) return { rule: d.match(RULE)[1], reason: d.replace(RULE, "").replace(/^:\s*/, "") };
    return null;
  }

  // The problems to mark on a form: each field with the reason in the operator's language.
  wb.problemsOf = function problemsOf(answer) {
    const body = (answer && answer.body) || {};
    if (Array.isArray(body.detail)) return body.detail.map((p) => ({ field: p.field, reason: reasonText(p.reason, body.rule) }));
    const refusal = refusalOf(body);
    return refusal && refusal.field ? [{ field: refusal.field, reason: reasonText(refusal.reason, refusal.rule) }] : [];
  };

  // A failure says what to do: sign in again, ask the county, correct a field, try again after a while.
  wb.failure = function failure(answer) {
    if (!answer || !answer.status) return wb.t("err_network");
    const body = answer.body || {};
    const refusal = refusalOf(body);
    const said = refusal ? reasonText(refusal.reason, refusal.rule) : "";
    const correlation = answer.headers && answer.headers.get ? answer.headers.get("x-correlation-id") : null;
    switch (answer.status) {
      case 401: return wb.t("expired");
      case 403: return refusal && refusal.rule !== "R50" ? said : wb.t("do_R50") + (wb.zh() ? "（R50）" : "");
      case 404: return wb.t("err_missing");
      case 409: {
        // Without a rule: the Idempotency-Key's first request is still running (kit's middleware, with Retry-After).
        const after = Number(answer.headers && answer.headers.get ? answer.headers.get("retry-after") : NaN);
        if (!refusal && Number.isFinite(after) && after > 0) return wb.t("err_in_flight", { n: Math.ceil(after) });
        return said || `${wb.t("err_conflict")} ${wb.zh() ? "" : wb.detailText(body)}`.trim();
      }
      case 413: return wb.t("err_too_large");
      case 422: {
        const problems = wb.problemsOf(answer);
        if (!problems.length) return said || wb.t("err_invalid");
        return `${wb.t("err_invalid")} ${problems.map((p) => `${fieldName(p.field)}：${p.reason}`).join("；")}`;
      }
      case 503: {
        const after = Number(answer.headers && answer.headers.get ? answer.headers.get("retry-after") : NaN);
        return Number.isFinite(after) && after > 0 ? wb.t("err_unavailable", { n: Math.ceil(after) }) : wb.t("err_unavailable_later");
      }
      default: {
        const id = correlation || (String(body.detail || "").match(/correlation id (\S+)/) || [])[1];
        return id ? wb.t("err_server_id", { id }) : wb.t("err_server");
      }
    }
  };
  // A field's label as the form shows it (the last part of a dotted path), else the path itself.
  function fieldName(path) {
    const name = String(path || "").split(".").pop();
    const key = { id_number: "id_number", name: "name", birth_date: "birth_date", gender: "gender", grade: "grade",
      school_year: "school_year", segment: "segment", reason: "reason_text", left_off: "student_id" }[name];
    return key ? wb.t(key) : name;
  }
  wb.reasonText = reasonText;
})();
