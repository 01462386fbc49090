// The planners' workspace: sign in with a key (this tab only), list and open plans, reports, compare, propose/adopt, jobs.
(function () {
  "use strict";
  var c = window.catchment, t = c.t, el = c.el, charts = window.catchmentCharts;
  var KEY = "catchment-planner-key";
  var $ = function (id) { return document.getElementById(id); };
  var state = {pending: 0, plans: [], plan: null, key: window.sessionStorage.getItem(KEY), map: null, zones: null, seq: 0};
  window.catchmentPlan = {state: state};

  function busy(delta) { state.pending += delta; document.body.setAttribute("aria-busy", state.pending > 0 ? "true" : "false"); }
  function get(path, params, opts) {
    busy(1);
    return c.request(path, params, opts).then(function (res) { busy(-1); return res; });
  }
  function statusName(s) { return t("status_" + s); }
  function pct(v) { return v === null || v === undefined ? "–" : c.number(v * 100) + " %"; }
  function num(v, d) { return v === null || v === undefined ? "–" : c.number(v, d); }
  function detailOf(res) { return res.body && res.body.detail ? res.body.detail : c.problemText(res); }

  function table(caption, heads, rows, label) {
    var thead = el("thead", {}, el("tr", {}, heads.map(function (h) {
      return el("th", {scope: "col", class: h.num ? "num" : null, text: h.label});
    })));
    var tbody = el("tbody", {}, rows.map(function (r) {
      return el("tr", {}, r.map(function (cell, i) { return el("td", {class: heads[i].num ? "num" : null, text: cell}); }));
    }));
    // A scrolling box is focusable and named, so keyboard users can scroll it too.
    return el("div", {class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption || label},
              el("table", {}, caption ? el("caption", {text: caption}) : null, thead, tbody));
  }

  // ---- the key -------------------------------------------------------------------------------
  function showKey() {
    var signed = !!state.key;
    $("key-form").hidden = signed; $("key-hint").hidden = signed; $("signed-in").hidden = !signed;
    updateActions();
    if (signed) { loadJobs(); }
  }

  $("key-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var key = $("key").value.trim();
    if (!key) { $("key").focus(); return; }
    // GET /v1/jobs needs a planner key: a cheap way to check the key before keeping it.
    get("/v1/jobs", {limit: 1}, {key: key}).then(function (res) {
      if (!res.ok) { $("key-status").textContent = t("bad_key", {detail: detailOf(res)}); return; }
      state.key = key; window.sessionStorage.setItem(KEY, key); $("key").value = "";
      $("key-status").textContent = "";
      showKey();
      $("sign-out").focus();
    });
  });
  $("sign-out").addEventListener("click", function () {
    state.key = null; window.sessionStorage.removeItem(KEY); $("key-status").textContent = "";
    c.clear($("jobs")); $("jobs").appendChild(el("p", {class: "hint", text: t("need_key")}));
    showKey();
  });

  // ---- the list ------------------------------------------------------------------------------
  var FILTERS = {district: "f-district", level: "f-level", school_year: "f-year", status: "f-status"};

  function fillFilter(id, values, label) {
    var sel = $(id), keep = sel.value;
    while (sel.options.length > 1) { sel.remove(1); }
    values.forEach(function (v) { sel.appendChild(el("option", {value: v, text: label ? label(v) : v})); });
    sel.value = values.map(String).indexOf(keep) >= 0 ? keep : "";
  }

  function loadPlans() {
    return get("/v1/plans").then(function (res) {
      if (!res.ok) { $("plans-status").textContent = detailOf(res); return; }
      state.plans = res.body;
      var uniq = function (k) { return Array.from(new Set(res.body.map(function (p) { return p[k]; }))).sort(); };
      fillFilter("f-district", uniq("district"));
      fillFilter("f-level", uniq("level"), c.levelName);
      fillFilter("f-year", uniq("school_year"));
      fillFilter("f-status", ["draft", "proposed", "adopted", "archived"], statusName);
      showPlans();
    });
  }

  function showPlans() {
    var want = {};
    Object.keys(FILTERS).forEach(function (k) { want[k] = $(FILTERS[k]).value; });
    var shown = state.plans.filter(function (p) {
      return Object.keys(want).every(function (k) { return !want[k] || String(p[k]) === want[k]; });
    });
    var body = document.querySelector("#plan-table tbody");
    c.clear(body);
    shown.forEach(function (p) {
      var open = el("button", {type: "button", class: "choice open-plan", "data-plan": p.id, text: p.name});
      open.addEventListener("click", function () { openPlan(p.id, true); });
      body.appendChild(el("tr", {"data-plan": p.id}, el("td", {}, open), el("td", {text: p.district}),
        el("td", {text: c.levelName(p.level)}), el("td", {class: "num", text: p.school_year}),
        el("td", {}, el("span", {class: "badge badge-" + p.status, text: statusName(p.status)}))));
    });
    $("plans-status").textContent = shown.length ? "" : t("no_plans");
  }
  Object.keys(FILTERS).forEach(function (k) { $(FILTERS[k]).addEventListener("change", showPlans); });

  // ---- one plan ------------------------------------------------------------------------------
  function openPlan(id, push) {
    var seq = ++state.seq;
    c.setQuery({plan: id}, push);
    return get("/v1/plans/" + id).then(function (res) {
      if (seq !== state.seq) { return; }
      if (!res.ok) { $("plans-status").textContent = detailOf(res); return; }
      var p = state.plan = res.body;
      $("detail").hidden = false;
      $("plan-heading").textContent = t("plan_heading", {name: p.name});
      $("plan-meta").textContent = t("plan_meta", {district: p.district, level: c.levelName(p.level), year: p.school_year,
                                                   status: statusName(p.status), version: p.version});
      $("action-status").textContent = "";
      $("edit-link").setAttribute("href", c.url("/v1/maps/plan/" + p.id + "/edit", {lang: c.config.lang}));
      $("capacity-csv").setAttribute("href", c.url("/v1/reports/capacity", {plan: p.id, format: "csv"}));
      $("balance-csv").setAttribute("href", c.url("/v1/reports/balance", {plan: p.id, format: "csv"}));
      $("travel-csv").setAttribute("href", c.url("/v1/reports/travel", {plan: p.id, format: "csv"}));
      updateActions();
      fillCompare(p);
      $("plan-heading").focus();
      drawMap(p, seq); validation(p, seq); capacity(p, seq); balance(p, seq); travel(p, seq);
      c.clear($("compare"));
    });
  }

  function updateActions() {
    var p = state.plan;
    if (!p) { return; }
    var draft = p.status === "draft";
    $("edit-link").hidden = !draft;
    $("propose").hidden = !draft; $("adopt").hidden = p.status === "adopted" || p.status === "archived";
    ["propose", "adopt", "copy-plan"].forEach(function (id) { $(id).disabled = !state.key; });
  }

  function drawMap(p, seq) {
    if (!state.map) { state.map = c.makeMap("plan-map"); state.zones = L.featureGroup().addTo(state.map); window.catchmentPlan.map = state.map; }
    state.map.invalidateSize();
    get("/v1/plans/" + p.id + "/zones").then(function (res) {
      if (seq !== state.seq || !res.ok) { return; }
      state.zones.clearLayers();
      var layer = L.geoJSON(res.body, {style: function () { return {color: "#1f5fa8", weight: 1.5, fillColor: "#1f78b4", fillOpacity: 0.12}; },
        onEachFeature: function (f, l) {
          var name = f.properties.name || f.properties.school_codes.join(", ");
          l.bindTooltip(c.textNode(name));
        }});
      state.zones.addLayer(layer);
      window.catchmentPlan.zoneCount = layer.getLayers().length;
      state.map.invalidateSize();
      if (layer.getLayers().length) { state.map.fitBounds(layer.getBounds(), {animate: false}); }
    });
  }

  function validation(p, seq) {
    var box = $("validation");
    c.clear(box); box.appendChild(el("p", {class: "hint", text: t("loading")}));
    get("/v1/plans/" + p.id + "/validation").then(function (res) {
      if (seq !== state.seq) { return; }
      c.clear(box);
      if (!res.ok) { box.appendChild(el("p", {class: "problem", text: detailOf(res)})); return; }
      var fs = res.body.findings.features;
      if (!fs.length) { box.appendChild(el("p", {class: "ok", text: t("no_findings")})); return; }
      var rows = fs.map(function (f) {
        var m = f.properties.message;
        return [f.properties.severity, f.properties.code, (m && (m[c.config.lang] || m.en)) || ""];
      });
      box.appendChild(table(null, [{label: t("severity")}, {label: t("finding")}, {label: t("message")}], rows, t("validation")));
      Array.prototype.forEach.call(box.querySelectorAll("tbody tr"), function (tr, i) {
        tr.firstChild.className = "sev-" + fs[i].properties.severity;
      });
    });
  }

  function capacity(p, seq) {
    var box = $("capacity");
    c.clear(box); box.appendChild(el("p", {class: "hint", text: t("loading")}));
    get("/v1/reports/capacity", {plan: p.id}).then(function (res) {
      if (seq !== state.seq) { return; }
      c.clear(box);
      if (!res.ok) { box.appendChild(el("p", {class: "problem", text: detailOf(res)})); return; }
      var rows = res.body.rows.slice();
      var u = function (r) { return r.utilisation_demand !== null ? r.utilisation_demand : r.utilisation_enrolment; };
      rows.sort(function (a, b) { return (u(b) || 0) - (u(a) || 0); });
      var top = rows.filter(function (r) { return u(r) !== null; }).slice(0, 15);
      box.appendChild(charts.hbars(top.map(function (r) {
        var v = u(r);
        return {label: r.name, value: v, cls: v > 1 ? "bar-over" : v >= 0.8 ? "bar-ok" : "bar-under"};
      }), {title: t("chart_utilisation"), mark: 1, format: pct}));
      var lang = c.config.lang;
      box.appendChild(table(null, [{label: t("school")}, {label: t("seats"), num: true}, {label: t("enrolment"), num: true},
        {label: t("demand"), num: true}, {label: t("utilisation"), num: true}, {label: t("band")}],
        rows.map(function (r) {
          return [r.name, num(r.capacity), num(r.enrolment), num(r.demand), pct(u(r)),
                  r["band_demand_" + lang] || r["band_enrolment_" + lang] || ""];
        }), t("capacity")));
    });
  }

  function balance(p, seq) {
    var box = $("balance");
    c.clear(box);
    get("/v1/reports/balance", {plan: p.id}).then(function (res) {
      if (seq !== state.seq) { return; }
      if (!res.ok) { box.appendChild(el("p", {class: "problem", text: detailOf(res)})); return; }
      if (!res.body.indicators.length) { box.appendChild(el("p", {class: "hint", text: t("no_indicators")})); return; }
      box.appendChild(table(null, [{label: t("indicator")}, {label: t("value"), num: true}, {label: t("limit"), num: true}],
        res.body.indicators.map(function (i) {
          var name = i["name_" + c.config.lang] || i.name || i.key || "";
          return [name, num(i.cv !== undefined ? i.cv : i.value, 3), num(i.limit !== undefined ? i.limit : i.max_cv, 3)];
        }), t("balance")));
    });
  }

  function travel(p, seq) {
    var box = $("travel");
    c.clear(box); box.appendChild(el("p", {class: "hint", text: t("loading")}));
    Promise.all([get("/v1/reports/travel", {plan: p.id}), get("/v1/reports/travel/distribution", {plan: p.id})]).then(function (got) {
      if (seq !== state.seq) { return; }
      c.clear(box);
      var sum = got[0], dist = got[1];
      if (!sum.ok) { box.appendChild(el("p", {class: sum.status === 422 ? "hint" : "problem", text: sum.status === 422 ? t("no_demand") : detailOf(sum)})); return; }
      var s = sum.body.summary;
      box.appendChild(table(null, [{label: t("mean"), num: true}, {label: t("median"), num: true}, {label: t("p90"), num: true}],
        [[c.distance(s.mean), c.distance(s.median), c.distance(s.p90)]], t("travel")));
      if (dist.ok) {
        box.appendChild(charts.histogram(dist.body.edges, dist.body.pupils, {title: t("chart_distance"), format: c.distance,
          format2: function (v) { return c.number(v); }, axis: t("pupils")}));
      }
    });
  }

  // ---- compare -------------------------------------------------------------------------------
  function fillCompare(p) {
    var sel = $("compare-with");
    c.clear(sel);
    state.plans.filter(function (o) { return o.id !== p.id && o.level === p.level && o.district === p.district; }).forEach(function (o) {
      sel.appendChild(el("option", {value: o.id, text: o.name + " (" + statusName(o.status) + ", " + o.school_year + ")"}));
    });
    $("compare-form").hidden = !sel.options.length;
  }

  $("compare-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var p = state.plan, other = $("compare-with").value, box = $("compare");
    c.clear(box); box.appendChild(el("p", {class: "hint", text: t("loading")}));
    get("/v1/plans/compare", {a: other, b: p.id}).then(function (res) {
      c.clear(box);
      if (!res.ok) { box.appendChild(el("p", {class: "problem", text: detailOf(res)})); return; }
      var b = res.body;
      box.appendChild(el("p", {class: "moved", text: t("moved", {pupils: num(b.pupils_moved), units: num(b.units_changed)})}));
      var rows = (b.schools || []).filter(function (r) { return Math.abs(r.change || 0) > 0.05; });
      box.appendChild(table(null, [{label: t("school")}, {label: t("before"), num: true}, {label: t("after"), num: true}],
        rows.map(function (r) { return [r.name || r.code, num(r.demand_before), num(r.demand_after)]; }), t("compare")));
    });
  });

  // ---- propose / adopt / copy ----------------------------------------------------------------
  function confirm(lines, then) {
    var dlg = $("confirm"), body = $("confirm-body");
    c.clear(body);
    lines.forEach(function (line) { body.appendChild(el("p", {class: "confirm-line", text: line})); });
    var yes = $("confirm-yes"), no = $("confirm-no");
    var close = function (ok) { yes.onclick = null; no.onclick = null; dlg.close(); if (ok) { then(); } else { $("adopt").focus(); } };
    yes.onclick = function () { close(true); };
    no.onclick = function () { close(false); };
    dlg.showModal();
    no.focus();
  }

  function act(path, body, done, write) {
    var p = state.plan;
    var opts = {method: "POST", key: state.key, body: body};
    if (write) { opts.version = p.version; }
    return get(path, null, opts).then(function (res) {
      if (!res.ok) { $("action-status").textContent = detailOf(res); return; }
      $("action-status").textContent = done;
      loadPlans().then(function () { openPlan(res.body.id || p.id, false).then(function () { $("action-status").textContent = done; }); });
    });
  }

  $("propose").addEventListener("click", function () {
    var p = state.plan;
    confirm([t("confirm_propose", {name: p.name})], function () { act("/v1/plans/" + p.id + "/propose", undefined, t("done_propose"), true); });
  });

  $("adopt").addEventListener("click", function () {
    var p = state.plan;
    var lines = [t("confirm_adopt", {name: p.name, district: p.district, level: c.levelName(p.level), year: p.school_year})];
    var old = state.plans.filter(function (o) {
      return o.status === "adopted" && o.district === p.district && o.level === p.level && o.school_year === p.school_year && o.id !== p.id;
    })[0];
    var ask = function () { confirm(lines, function () { act("/v1/plans/" + p.id + "/adopt", undefined, t("done_adopt"), true); }); };
    if (!old) { lines.push(t("confirm_first")); ask(); return; }
    lines.push(t("confirm_replaces", {old: old.name}));
    get("/v1/plans/compare", {a: old.id, b: p.id}).then(function (res) {
      if (res.ok) { lines.push(t("confirm_changes", {pupils: num(res.body.pupils_moved), units: num(res.body.units_changed)})); }
      ask();
    });
  });

  $("copy-plan").addEventListener("click", function () {
    act("/v1/plans/" + state.plan.id + "/copy", {}, t("done_copy"));
  });

  // ---- jobs ----------------------------------------------------------------------------------
  function loadJobs() {
    if (!state.key) { return; }
    get("/v1/jobs", {limit: 20}, {key: state.key}).then(function (res) {
      var box = $("jobs");
      c.clear(box);
      if (!res.ok) { box.appendChild(el("p", {class: "problem", text: detailOf(res)})); return; }
      if (!res.body.length) { box.appendChild(el("p", {class: "hint", text: t("no_jobs")})); return; }
      box.appendChild(table(null, [{label: "#", num: true}, {label: t("job_kind")}, {label: t("status")}, {label: t("job_progress"), num: true},
        {label: t("job_gap"), num: true}, {label: t("job_created")}], res.body.map(function (j) {
          var f = j.progress && j.progress.fraction, g = j.progress && j.progress.gap;
          return [j.id, j.kind, j.status, f === undefined || f === null ? "–" : pct(f), g === undefined || g === null ? "–" : pct(g),
                  j.created_at || ""];
        }), t("jobs")));
      // an optimiser job that is done links its draft
      Array.prototype.forEach.call(box.querySelectorAll("tbody tr"), function (tr, i) {
        var r = res.body[i].result;
        if (r && r.plan_id) {
          var cell = tr.children[1];
          cell.appendChild(document.createTextNode(" → "));
          cell.appendChild(el("a", {class: "job-draft", href: c.url("/plan", {plan: r.plan_id, lang: c.config.lang}),
                                    text: t("opt_open", {id: r.plan_id})}));
        }
      });
    });
  }
  $("jobs-refresh").addEventListener("click", loadJobs);

  // ---- start ---------------------------------------------------------------------------------
  function fromUrl() {
    var id = new URLSearchParams(window.location.search).get("plan");
    if (id && /^\d+$/.test(id)) { openPlan(Number(id), false); } else { $("detail").hidden = true; state.plan = null; }
  }
  window.addEventListener("popstate", fromUrl);
  c.updateLangLink();
  showKey();
  loadPlans().then(fromUrl).then(function () { window.catchmentPlan.ready = true; });
})();
