// CSV and XLSX export of any list, formula-safe: a cell starting with = + - @ tab or CR is neutralised with a
// leading apostrophe, so a spreadsheet never runs a name or a reason someone typed as a formula (CWE-1236).
// XLSX is written by hand (inline strings in a stored zip): no library, no build step.
(function () {
  "use strict";
  const wb = window.XUEJI_WB;
  const { el, t } = wb;

  function safe(value) {
    const s = value === null || value === undefined ? "" : String(value);
    return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  }
  function csv(rows) {
    const cell = (v) => { const s = safe(v); return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; };
    return `\ufeff${rows.map((r) => r.map(cell).join(",")).join("\r\n")}\r\n`;
  }

  // ---- a minimal XLSX: one sheet of inline strings, zipped without compression ----------------------
  const CRC = (() => { const table = new Uint32Array(256); for (let n = 0; n < 256; n += 1) { let c = n; for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; table[n] = c >>> 0; } return table; })();
  function crc32(bytes) { let c = 0xffffffff; for (const b of bytes) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; }
  function zip(files) {
    const enc = new TextEncoder();
    const parts = [], central = [];
    let offset = 0;
    for (const [name, text] of files) {
      const data = enc.encode(text), nameBytes = enc.encode(name), crc = crc32(data);
      const local = new DataView(new ArrayBuffer(30));
      local.setUint32(0, 0x04034b50, true); local.setUint16(4, 20, true); local.setUint16(6, 0x0800, true);
      local.setUint32(14, crc, true); local.setUint32(18, data.length, true); local.setUint32(22, data.length, true);
      local.setUint16(26, nameBytes.length, true);
      parts.push(new Uint8Array(local.buffer), nameBytes, data);
      const entry = new DataView(new ArrayBuffer(46));
      entry.setUint32(0, 0x02014b50, true); entry.setUint16(4, 20, true); entry.setUint16(6, 20, true); entry.setUint16(8, 0x0800, true);
      entry.setUint32(16, crc, true); entry.setUint32(20, data.length, true); entry.setUint32(24, data.length, true);
      entry.setUint16(28, nameBytes.length, true); entry.setUint32(42, offset, true);
      central.push(new Uint8Array(entry.buffer), nameBytes);
      offset += 30 + nameBytes.length + data.length;
    }
    const size = central.reduce((n, p) => n + p.length, 0);
    const end = new DataView(new ArrayBuffer(22));
    end.setUint32(0, 0x06054b50, true); end.setUint16(8, files.length, true); end.setUint16(10, files.length, true);
    end.setUint32(12, size, true); end.setUint32(16, offset, true);
    return new Blob([...parts, ...central, new Uint8Array(end.buffer)], { type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
  }
  const xml = (s) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c])).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "");
  function column(i) { let s = ""; for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s; return s; }
  function xlsx(rows) {
    const sheetRows = rows.map((r, y) => `<row r="${y + 1}">${r.map((v, x) => `<c r="${column(x)}${y + 1}" t="inlineStr"><is><t xml:space="preserve">${xml(safe(v))}</t></is></c>`).join("")}</row>`).join("");
    const head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';
    return zip([
      ["[Content_Types].xml", `${head}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`],
      ["_rels/.rels", `${head}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`],
      ["xl/workbook.xml", `${head}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`],
      ["xl/_rels/workbook.xml.rels", `${head}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`],
      ["xl/worksheets/sheet1.xml", `${head}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${sheetRows}</sheetData></worksheet>`],
    ]);
  }

  wb.download = function download(blob, filename) {
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  };
  // Two buttons beside a list; rows() is called at click time so the export is what the page shows now.
  wb.exportButtons = function exportButtons(name, rows) {
    const stamp = () => new Date().toISOString().slice(0, 10);
    const asCsv = el("button", { type: "button", dataset: { export: "csv" }, text: t("export_csv") });
    const asXlsx = el("button", { type: "button", dataset: { export: "xlsx" }, text: t("export_xlsx") });
    asCsv.addEventListener("click", () => wb.download(new Blob([csv(rows())], { type: "text/csv;charset=utf-8" }), `${name}-${stamp()}.csv`));
    asXlsx.addEventListener("click", () => wb.download(xlsx(rows()), `${name}-${stamp()}.xlsx`));
    return el("span", { class: "export" }, asCsv, " ", asXlsx);
  };
  wb.exportFormats = { csv, xlsx, safe };
})();
