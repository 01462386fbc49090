// Shared by the parents' page and the planners' workspace: labels, safe DOM building, requests, the map.
// Every stored text (school, plan and zone names, explanations) goes in as a text node, never as HTML.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("catchment-config").textContent);

  function t(key, values) {
    var text = config.text[key];
    if (text === undefined) { text = key; }
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      return values && values[name] !== undefined && values[name] !== null ? String(values[name]) : all;
    });
  }

  // el("p", {class: "x"}, "text", child, ...): attributes are set one by one, children are nodes or text.
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) { return; }
      if (k === "text") { node.textContent = String(v); } else { node.setAttribute(k, v === true ? "" : String(v)); }
    });
    for (var i = 2; i < arguments.length; i++) { append(node, arguments[i]); }
    return node;
  }

  function append(node, child) {
    if (child === null || child === undefined || child === false) { return; }
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function url(path, params) {
    var q = new URLSearchParams();
    Object.keys(params || {}).forEach(function (k) {
      if (params[k] !== null && params[k] !== undefined && params[k] !== "") { q.set(k, params[k]); }
    });
    var s = q.toString();
    return config.root + path + (s ? "?" + s : "");
  }

  // Resolves {ok, status, body}; a network failure gives status 0.
  function request(path, params, options) {
    var opts = options || {};
    var headers = {Accept: "application/json"};
    if (opts.key) { headers.Authorization = "Bearer " + opts.key; }
    // Plan writes name the version they were decided on (the API answers 428 without, 412 when stale).
    if (opts.version !== undefined) { headers["If-Match"] = '"' + opts.version + '"'; }
    if (opts.body !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(url(path, params), {method: opts.method || "GET", headers: headers,
                                     body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined})
      .then(function (r) {
        return r.text().then(function (text) {
          var body = null;
          try { body = text ? JSON.parse(text) : null; } catch (e) { body = {detail: text}; }
          return {ok: r.ok, status: r.status, body: body};
        });
      }, function () { return {ok: false, status: 0, body: null}; });
  }

  function problemText(res) {
    if (res.status === 0) { return t("error_network"); }
    return t("error_generic", {status: res.status});
  }

  function number(n, digits) {
    return Number(n).toLocaleString(config.lang === "zh" ? "zh-CN" : "en", {maximumFractionDigits: digits || 0});
  }

  function distance(m) {
    if (m === null || m === undefined) { return ""; }
    return m >= 1000 ? t("km", {n: number(m / 1000, 1)}) : t("m", {n: number(Math.round(m))});
  }

  function minutes(s) { return t("min", {n: number(Math.max(1, Math.round(s / 60)))}); }

  function levelName(level) { return config.levels[level] || level; }

  // The language switch keeps the rest of the query, so a shared answer stays the same answer.
  function updateLangLink() {
    var link = document.getElementById("lang-switch");
    if (!link) { return; }
    var q = new URLSearchParams(window.location.search);
    q.set("lang", config.lang === "en" ? "zh" : "en");
    link.setAttribute("href", window.location.pathname + "?" + q.toString());
  }

  function setQuery(params, push) {
    var q = new URLSearchParams();
    Object.keys(params).forEach(function (k) { if (params[k] !== null && params[k] !== undefined && params[k] !== "") { q.set(k, params[k]); } });
    q.set("lang", config.lang);
    var next = window.location.pathname + "?" + q.toString();
    if (next !== window.location.pathname + window.location.search) {
      window.history[push ? "pushState" : "replaceState"](null, "", next);
    }
    updateLangLink();
  }

  function makeMap(id, options) {
    var map = L.map(id, Object.assign({zoomControl: true, attributionControl: true}, options || {}));
    if (config.tiles) {
      L.tileLayer(config.tiles.url, {attribution: config.tiles.attribution, maxZoom: 19}).addTo(map);
    } else {
      map.attributionControl.addAttribution(t("tiles_none"));
    }
    return map;
  }

  // Leaflet writes a string tooltip as HTML; a node is inserted as it is.
  function textNode(text) { return el("span", {text: text}); }

  window.catchment = {config: config, t: t, el: el, clear: clear, url: url, request: request, problemText: problemText,
                      number: number, distance: distance, minutes: minutes, levelName: levelName, setQuery: setQuery,
                      updateLangLink: updateLangLink, makeMap: makeMap, textNode: textNode};
})();
