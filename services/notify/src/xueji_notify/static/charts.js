// Small SVG charts drawn from the summary JSON: no library, nothing fetched from elsewhere.
(function () {
  const NS = "http://www.w3.org/2000/svg";
  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }
  function svg(width, height, label) {
    const root = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
    el("title", {}, root).textContent = label;
    return root;
  }

  // Breaches per day: one bar a day, the axis labelled at both ends and with the largest value.
  function days(container, points, label, emptyText) {
    const w = 600, h = 130, pad = 18, max = Math.max(1, ...points.map((p) => p.n));
    const root = svg(w, h, label);
    const step = (w - pad * 2) / points.length;
    el("line", { x1: pad, x2: w - pad, y1: h - pad, y2: h - pad, class: "axis" }, root);
    points.forEach((p, i) => {
      const bh = ((h - pad * 2) * p.n) / max;
      const bar = el("rect", { x: pad + i * step + 1, y: h - pad - bh, width: Math.max(1, step - 2), height: bh,
        class: p.n ? "bar late" : "bar" }, root);
      el("title", {}, bar).textContent = `${p.day}: ${p.n}`;
    });
    el("text", { x: pad, y: h - 4 }, root).textContent = points[0].day.slice(5);
    el("text", { x: w - pad, y: h - 4, "text-anchor": "end" }, root).textContent = points[points.length - 1].day.slice(5);
    const total = points.reduce((a, p) => a + p.n, 0);
    el("text", { x: pad, y: 10 }, root).textContent = total ? `max ${max}` : emptyText;
    container.replaceChildren(root);
  }

  // Stages by working days left: horizontal bars, overdue in red and the next two days in amber.
  function buckets(container, entries, names, label) {
    const w = 420, row = 17, h = entries.length * row + 6, left = 70;
    const max = Math.max(1, ...entries.map(([, n]) => n));
    const root = svg(w, h, label);
    entries.forEach(([key, n], i) => {
      const y = 3 + i * row;
      el("text", { x: left - 6, y: y + 12, "text-anchor": "end" }, root).textContent = names[key] || key;
      const cls = key === "overdue" ? "bar late" : key === "0" || key === "1" || key === "2" ? "bar warn" : "bar";
      el("rect", { x: left, y: y + 2, width: Math.max(n ? 2 : 0, ((w - left - 40) * n) / max), height: row - 5, class: cls }, root);
      el("text", { x: left + ((w - left - 40) * n) / max + 4, y: y + 12 }, root).textContent = String(n);
    });
    container.replaceChildren(root);
  }

  function spark(values, label) {
    const w = 90, h = 18, max = Math.max(1, ...values), step = w / values.length;
    const root = svg(w, h, label);
    root.setAttribute("class", "spark");
    values.forEach((n, i) => {
      const bh = n ? Math.max(2, ((h - 2) * n) / max) : 1;
      el("rect", { x: i * step + 0.5, y: h - bh, width: Math.max(1, step - 1), height: bh, class: n ? "bar late" : "bar" }, root);
    });
    return root;
  }

  window.XUEJI_CHARTS = { days, buckets, spark };
})();
