// Small SVG bar charts built with DOM calls (labels are text nodes): utilisation per school, distances.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    var n = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined) { n.textContent = String(text); }
    return n;
  }

  // Horizontal bars: rows [{label, value, cls}], a reference line at `mark` (e.g. 100 %).
  function hbars(rows, opts) {
    var rowH = 18, left = 150, width = 520, top = 4;
    var max = Math.max(opts.mark || 0, Math.max.apply(null, rows.map(function (r) { return r.value; }).concat([0]))) || 1;
    var h = top + rows.length * rowH + 20;
    var root = svg("svg", {class: "chart", viewBox: "0 0 " + width + " " + h, role: "img", "aria-label": opts.title});
    root.appendChild(svg("title", {}, opts.title));
    var scale = function (v) { return (width - left - 50) * v / max; };
    rows.forEach(function (r, i) {
      var y = top + i * rowH;
      root.appendChild(svg("text", {x: left - 6, y: y + 12, "text-anchor": "end"}, r.label.length > 24 ? r.label.slice(0, 23) + "…" : r.label));
      root.appendChild(svg("rect", {x: left, y: y + 2, width: Math.max(1, scale(r.value)), height: rowH - 5, class: r.cls || "bar"}));
      root.appendChild(svg("text", {x: left + scale(r.value) + 4, y: y + 12}, opts.format(r.value)));
    });
    if (opts.mark) {
      var x = left + scale(opts.mark);
      root.appendChild(svg("line", {x1: x, x2: x, y1: 0, y2: h - 16, stroke: "#1a1a1a", "stroke-dasharray": "3 3"}));
      root.appendChild(svg("text", {x: x, y: h - 4, "text-anchor": "middle"}, opts.format(opts.mark)));
    }
    return root;
  }

  // Vertical bars over bins: edges (n + 1 numbers), values (n), label formatter for the edges.
  function histogram(edges, values, opts) {
    var width = 520, h = 200, left = 44, bottom = 34, top = 8;
    var n = values.length, max = Math.max.apply(null, values.concat([0])) || 1;
    var bw = (width - left - 8) / n;
    var root = svg("svg", {class: "chart", viewBox: "0 0 " + width + " " + h, role: "img", "aria-label": opts.title});
    root.appendChild(svg("title", {}, opts.title));
    values.forEach(function (v, i) {
      var bh = (h - top - bottom) * v / max;
      root.appendChild(svg("rect", {x: left + i * bw + 1, y: h - bottom - bh, width: bw - 2, height: bh, class: "bar"}));
      if (i % 2 === 0) { root.appendChild(svg("text", {x: left + i * bw, y: h - bottom + 14, "text-anchor": "middle"}, opts.format(edges[i]))); }
    });
    root.appendChild(svg("text", {x: width - 8, y: h - 4, "text-anchor": "end"}, opts.axis));
    root.appendChild(svg("text", {x: 4, y: top + 10}, opts.format2(max)));
    return root;
  }

  window.catchmentCharts = {hbars: hbars, histogram: histogram};
})();
