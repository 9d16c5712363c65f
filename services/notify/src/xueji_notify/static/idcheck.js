// GB 11643 resident ID numbers, checked as the clerk types (R06): the same parts, in the same order, as the
// registry's check (shape, birth date, region, check character). The registry stays the judge: it also knows
// which six-digit region codes were divisions in the birth year, which a page cannot.
(function () {
  "use strict";
  const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const CHECK = "10X98765432";
  const PROVINCES = new Set(["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"]);

  function checkCharacter(first17) {
    let sum = 0;
    for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * WEIGHTS[i];
    return CHECK[sum % 11];
  }

  // As the registry reads it: full-width forms folded (１ and Ｘ), spaces of any kind, hyphens and invisible
  // format characters (zero-width space, byte-order mark) that a paste brings along dropped.
  function typed(raw) {
    return String(raw || "").normalize("NFKC").replace(/[\s\u00ad\u200b-\u200f\u2060-\u2064\ufeff-]+/g, "");
  }

  // null when valid; otherwise { key, vars } naming the problem (texts in wb-text.js), as a clerk can act on it.
  function problem(raw) {
    const value = typed(raw).toUpperCase();
    if (!value) return null;
    if (value.length !== 18) return { key: "id_len", vars: { n: value.length } };
    if (!/^\d{17}[\dX]$/.test(value)) return { key: "id_shape" };
    const y = Number(value.slice(6, 10)), m = Number(value.slice(10, 12)), d = Number(value.slice(12, 14));
    const born = new Date(Date.UTC(y, m - 1, d));
    if (y < 1900 || born.getUTCFullYear() !== y || born.getUTCMonth() !== m - 1 || born.getUTCDate() !== d
        || born > new Date()) return { key: "id_birth", vars: { date: value.slice(6, 14) } };
    if (!PROVINCES.has(value.slice(0, 2))) return { key: "id_region", vars: { code: value.slice(0, 6) } };
    const expected = checkCharacter(value);
    if (expected !== value[17]) return { key: "id_check", vars: { got: value[17] } };
    return null;
  }

  function birthDate(raw) {
    const v = typed(raw);
    return /^\d{17}[\dXx]$/.test(v) ? `${v.slice(6, 10)}-${v.slice(10, 12)}-${v.slice(12, 14)}` : null;
  }
  function gender(raw) {
    const v = typed(raw);
    return /^\d{17}[\dXx]$/.test(v) ? (Number(v[16]) % 2 ? "male" : "female") : null;
  }

  window.XUEJI_ID = { problem, checkCharacter, birthDate, gender, typed };
})();
