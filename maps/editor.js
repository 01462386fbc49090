/* The editing map's script (see maps/editor.py): edits a draft plan through the planning API.
 *
 * Every write sends If-Match with the ETag the page holds and the planner's Bearer key; after it,
 * the zones, the capacity rows and the validation findings are fetched again. A 412 means another
 * planner changed the draft first: the page says so and offers to reload. Coordinates are
 * EPSG:4326; Leaflet's toGeoJSON writes (lon, lat).
 */
function catchmentStartEditor(map, cfg, schoolsLayer) {
  "use strict";
  var T = cfg.labels, KEY = "catchment-planner-key", PRECISION = 7, SHOWN = 5;
  var state = {
    etag: cfg.etag, version: cfg.plan.version, pending: 0, busy: false, editing: null, rows: null,
    counts: null, demand: null, unitsBox: null, unitsGen: 0, moved: {}, tallies: [], conflict: false, popup: null,
    locks: {}
  };
  // A proposal (maps/editor_proposal.py): the blocks that move against its parent start highlighted.
  (cfg.proposal ? cfg.proposal.moved : []).forEach(function (id) { state.moved[id] = true; });
  var byCode = {};
  cfg.schools.forEach(function (s) { byCode[s.code] = s; });

  // ------------------------------------------------------------------ small helpers
  function fmt(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return values[k] !== undefined ? String(values[k]) : m; });
  }
  function el(tag, cls, text, parent) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function q(sel) { return document.querySelector(sel); }
  function schoolName(code) { return byCode[code] ? byCode[code].name : code; }
  function zoneTitle(p) { return p.name || (p.school_codes || []).map(schoolName).join(" / "); }
  function colourOf(codes) {
    var c = (codes || [])[0] || "";
    if (cfg.colours[c]) { return cfg.colours[c]; }
    var h = 0;
    for (var i = 0; i < c.length; i++) { h = (h * 31 + c.charCodeAt(i)) >>> 0; }
    return cfg.palette[h % cfg.palette.length];
  }
  function int(v) { return v === null || v === undefined ? "–" : Math.round(v).toLocaleString(cfg.lang === "zh" ? "zh-CN" : "en-US"); }
  function pct(v) { return v === null || v === undefined ? "–" : Math.round(v * 100) + " %"; }

  // ------------------------------------------------------------------ panes and layers
  // Zones at the bottom, demand units over them, findings over both (never catching clicks),
  // schools (overlayPane, 400) on top.
  map.createPane("catchmentZones").style.zIndex = 350;
  map.createPane("catchmentUnits").style.zIndex = 380;
  map.createPane("catchmentFindings").style.zIndex = 390;
  map.getPane("catchmentFindings").style.pointerEvents = "none";
  if (map.pm && cfg.lang === "zh") { map.pm.setLang("zh"); }

  var zones = L.geoJson(null, {
    pane: "catchmentZones",
    style: function (f) {
      var multi = (f.properties.school_codes || []).length > 1;
      return {fillColor: colourOf(f.properties.school_codes), color: cfg.edge, weight: multi ? 2.5 : 1,
              dashArray: multi ? "6 4" : null, fillOpacity: cfg.fillOpacity, className: "catchment-zone"};
    },
    onEachFeature: function (f, layer) {
      // A text node, not a string: Leaflet parses a string tooltip as HTML.
      layer.bindTooltip(function () { return el("span", null, zoneTitle(f.properties)); }, {sticky: true});
      layer.on("click", function (e) { if (!state.editing) { openZone(layer, e.latlng); } });
    }
  }).addTo(map);

  var units = L.geoJson(null, {
    pane: "catchmentUnits",
    style: unitStyle,
    onEachFeature: function (f, layer) {
      layer.on("click", function (e) { if (!state.editing) { openUnit(layer, e.latlng); } });
      layer.on("mouseover", function () { if (!state.editing) { layer.setStyle({weight: 2, color: "#000"}); } });
      layer.on("mouseout", function () { units.resetStyle(layer); });
    }
  }).addTo(map);

  var findings = L.geoJson(null, {
    pane: "catchmentFindings", interactive: false, pmIgnore: true,
    style: function (f) {
      var c = cfg.severityColours[f.properties.severity] || "#555";
      return {color: c, fillColor: c, weight: 1.5, fillOpacity: 0.2, interactive: false,
              className: "catchment-finding catchment-finding-" + f.properties.code};
    },
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, {radius: 8, pane: "catchmentFindings", interactive: false});
    }
  }).addTo(map);

  function unitStyle(f) {
    var moved = state.moved[f.properties.id], locked = state.locks[f.properties.id];
    return {color: locked ? "#08519c" : (moved ? cfg.changed : "#5a5a5a"), weight: locked ? 3 : (moved ? 2.5 : 0.6),
            fillColor: moved ? cfg.changed : "#ffffff", fillOpacity: moved ? 0.3 : 0.04, dashArray: locked ? "4 3" : null,
            className: "catchment-unit" + (moved ? " catchment-unit-moved" : "") + (locked ? " catchment-unit-locked" : "")};
  }

  var overlays = {};
  overlays[cfg.layerNames.zones] = zones;
  overlays[cfg.layerNames.units] = units;
  overlays[cfg.layerNames.findings] = findings;
  overlays[cfg.layerNames.schools] = schoolsLayer;
  L.control.layers(null, overlays, {position: "topleft", collapsed: true}).addTo(map);

  // ------------------------------------------------------------------ the panel
  var panel = q(".catchment-editor"), status = panel.querySelector(".ce-status");
  var conflictBox = panel.querySelector(".ce-conflict"), hint = panel.querySelector(".ce-hint");
  var keyInput = panel.querySelector(".catchment-key-input");

  function say(text, kind) { status.textContent = text || ""; status.className = "ce-status " + (kind || ""); }
  function key() { return window.sessionStorage.getItem(KEY); }
  function showKey() {
    var has = !!key();
    panel.querySelector(".ce-key-entry").hidden = has;
    panel.querySelector(".ce-key-ok").hidden = !has;
  }
  function useKey() {
    var v = keyInput.value.trim();
    if (!v) { say(T.need_key, "error"); return; }
    window.sessionStorage.setItem(KEY, v);
    keyInput.value = "";
    say("", "");
    showKey();
  }
  panel.querySelector(".ce-key-entry").addEventListener("submit", function (e) { e.preventDefault(); useKey(); });
  panel.querySelector(".ce-key-forget").addEventListener("click", function () {
    window.sessionStorage.removeItem(KEY);
    showKey();
  });
  panel.querySelector(".ce-undo").addEventListener("click", function () { write(cfg.urls.undo, null, []); });
  panel.querySelector(".ce-redo").addEventListener("click", function () { write(cfg.urls.redo, null, []); });
  panel.querySelector(".ce-reload").addEventListener("click", function () { reload(); });
  showKey();

  function showAction(text, buttons) {
    var box = panel.querySelector(".ce-action"), row = panel.querySelector(".ce-action-buttons");
    panel.querySelector(".ce-action-text").textContent = text;
    row.innerHTML = "";
    buttons.forEach(function (b) { el("button", b[2] || "", b[0], row).addEventListener("click", b[1]); });
    box.hidden = false;
    map.getContainer().classList.add("catchment-editing");
  }
  function hideAction() {
    panel.querySelector(".ce-action").hidden = true;
    map.getContainer().classList.remove("catchment-editing");
  }
  function setVersion(v) {
    state.version = v;
    panel.querySelector(".ce-version").textContent = v;
    panel.setAttribute("data-version", v);
  }

  // ------------------------------------------------------------------ HTTP
  async function problemText(r) {
    try {
      var body = await r.json();
      return body.detail || body.title || (r.status + " " + r.statusText);
    } catch (err) {
      return r.status + " " + r.statusText;
    }
  }
  async function getJSON(url) {
    var r = await fetch(url, {headers: {"Accept": "application/json"}, cache: "no-store"});
    if (!r.ok) { throw new Error(await problemText(r)); }
    return {body: await r.json(), etag: r.headers.get("ETag")};
  }

  /* POST an edit (or undo/redo) with If-Match and the key; then refresh. ``involved`` are school
     codes to list in the tallies even when their pupils did not change. */
  async function write(url, body, involved) {
    if (!key()) { say(T.need_key, "error"); keyInput.focus(); return false; }
    if (state.busy) { say(T.busy, "error"); return false; }
    state.busy = true;
    state.pending += 1;
    say(T.saving, "busy");
    try {
      var headers = {"If-Match": state.etag, "Authorization": "Bearer " + key(), "Accept": "application/json"};
      if (body) { headers["Content-Type"] = "application/json"; }
      var r = await fetch(url, {method: "POST", headers: headers, body: body ? JSON.stringify(body) : undefined});
      if (r.status === 412) {
        showConflict(true);
        say("", "");
        return false;
      }
      if (!r.ok) {
        say(await problemText(r), "error");
        return false;
      }
      var out = await r.json();
      state.etag = r.headers.get("ETag") || state.etag;
      setVersion(out.plan.version);
      await refresh(involved);
      say(fmt(T.saved, {v: out.plan.version}), "ok");
      return true;
    } catch (err) {
      say(T.network + ": " + err.message, "error");
      return false;
    } finally {
      state.busy = false;
      state.pending -= 1;
    }
  }

  function showConflict(on) {
    state.conflict = on;
    conflictBox.hidden = !on;
  }

  /* Fetch zones (and the ETag that goes with them), capacity rows, findings and history. */
  async function refresh(involved) {
    state.pending += 1;
    try {
      var got = await Promise.all([getJSON(cfg.urls.zones), getJSON(cfg.urls.capacity), getJSON(cfg.urls.validation),
                                   getJSON(cfg.urls.history)]);
      // The page edits what it shows: the ETag is the one of the zones drawn.
      if (got[0].etag) {
        state.etag = got[0].etag;
        setVersion(parseInt(got[0].etag.replace(/\D/g, ""), 10));
      }
      drawZones(got[0].body);
      showTallies(got[1].body.rows || [], involved);
      showFindings(got[2].body);
      showHistory(got[3].body);
      state.unitsBox = null;
      await loadUnits();
    } finally {
      state.pending -= 1;
    }
  }

  async function reload() {
    showConflict(false);
    state.pending += 1;
    say(T.saving, "busy");
    try {
      await refresh([]);
      say(fmt(T.reloaded, {v: state.version}), "ok");
    } catch (err) {
      say(T.network + ": " + err.message, "error");
    } finally {
      state.pending -= 1;
    }
  }

  // ------------------------------------------------------------------ zones and reshaping
  function drawZones(doc) {
    cfg.zones = doc;
    zones.clearLayers();
    zones.addData(doc);
    panel.querySelector(".ce-zones").textContent = fmt(T.zones_count, {n: doc.features.length});
  }

  /* Leaflet fades a closed popup out over 200 ms, and its buttons stay clickable meanwhile: a quick
     next click (the first corner of a drawing) would press one of them. Hide it at once instead. */
  function openPopup(latlng, content, width) {
    state.popup = L.popup({maxWidth: width}).setLatLng(latlng).setContent(content).openOn(map);
  }
  function closePopup() {
    var p = state.popup;
    if (p && p.getElement()) { p.getElement().style.display = "none"; }
    map.closePopup();
  }

  function zoneLayer(zoneId) {
    var found = null;
    zones.eachLayer(function (l) { if (l.feature.properties.zone_id === zoneId) { found = l; } });
    return found;
  }

  function openZone(layer, latlng) {
    var p = layer.feature.properties, div = el("div", "ce-popup ce-zone-popup");
    el("b", null, zoneTitle(p), div);
    el("div", null, (p.school_codes || []).map(function (c) { return schoolName(c) + " (" + c + ")"; }).join(", "), div);
    el("button", "ce-reshape", T.reshape, div).addEventListener("click", function () { closePopup(); startReshape(layer); });
    el("button", "ce-draw", T.draw_new, div).addEventListener("click", function () { closePopup(); startDraw(p.zone_id); });
    openPopup(latlng, div, 320);
  }

  function startReshape(layer) {
    if (!key()) { say(T.need_key, "error"); keyInput.focus(); return; }
    var p = layer.feature.properties;
    state.editing = {zoneId: p.zone_id, layer: layer};
    layer.pm.enable({allowSelfIntersection: false, snappable: true});
    showAction(fmt(T.reshape_hint, {zone: zoneTitle(p)}),
               [[T.save_shape, saveReshape, "ce-save"], [T.cancel, cancelEdit, "ce-cancel"]]);
  }

  function saveReshape() {
    var ed = state.editing;
    if (!ed || !ed.layer) { return; }
    var geometry = ed.layer.toGeoJSON(PRECISION).geometry;
    ed.layer.pm.disable();
    state.editing = null;
    hideAction();
    replaceGeometry(ed.zoneId, geometry);
  }

  function startDraw(zoneId) {
    if (!key()) { say(T.need_key, "error"); keyInput.focus(); return; }
    var layer = zoneLayer(zoneId);
    state.editing = {zoneId: zoneId, draw: true};
    map.pm.enableDraw("Polygon", {snappable: true, allowSelfIntersection: false,
                                  pathOptions: {color: cfg.changed, weight: 2, fillOpacity: 0.2}});
    showAction(fmt(T.draw_hint, {zone: layer ? zoneTitle(layer.feature.properties) : zoneId}),
               [[T.cancel, cancelEdit, "ce-cancel"]]);
  }

  function cancelEdit() {
    var ed = state.editing;
    state.editing = null;
    if (ed && ed.layer) { ed.layer.pm.disable(); }
    if (map.pm) { map.pm.disableDraw(); }
    hideAction();
    drawZones(cfg.zones);
  }

  map.on("pm:create", function (e) {
    var ed = state.editing, geometry = e.layer.toGeoJSON(PRECISION).geometry;
    map.removeLayer(e.layer);
    if (!ed || !ed.draw) { return; }
    state.editing = null;
    hideAction();
    replaceGeometry(ed.zoneId, geometry);
  });

  /* The edit the draw and reshape tools send: the zone takes the new shape, and the shape is cut
     out of its neighbours, so a boundary moves instead of two zones overlapping. */
  function replaceGeometry(zoneId, geometry) {
    var layer = zoneLayer(zoneId), involved = layer ? (layer.feature.properties.school_codes || []).slice() : [];
    return write(cfg.urls.edits, {op: "replace_geometry", zone_id: zoneId, geometry: geometry, take_from_neighbours: true},
                 involved);
  }

  // ------------------------------------------------------------------ demand units
  async function loadUnits() {
    if (map.getZoom() < cfg.unitZoom) {
      units.clearLayers();
      state.unitsBox = null;
      hint.textContent = T.units_zoom;
      return;
    }
    var view = map.getBounds();
    if (state.unitsBox && state.unitsBox.contains(view)) { return; }
    var box = view.pad(0.25), gen = ++state.unitsGen;
    var bbox = [box.getWest(), box.getSouth(), box.getEast(), box.getNorth()].map(function (v) { return v.toFixed(5); });
    var sep = cfg.urls.units.indexOf("?") < 0 ? "?" : "&";
    state.pending += 1;
    try {
      var got = await getJSON(cfg.urls.units + sep + "bbox=" + bbox.join(","));
      if (gen !== state.unitsGen) { return; }
      state.demand = got.body.demand;
      units.clearLayers();
      units.addData(got.body);
      state.unitsBox = box;
      hint.textContent = got.body.demand ? fmt(T.units_shown, {n: got.body.features.length}) : T.units_none;
    } catch (err) {
      say(T.network + ": " + err.message, "error");
    } finally {
      state.pending -= 1;
    }
  }
  map.on("moveend", function () { if (!state.editing) { loadUnits(); } });

  function openUnit(layer, latlng) {
    var p = layer.feature.properties, div = el("div", "ce-popup ce-unit-popup");
    el("b", null, T.unit + " " + p.id, div);
    var table = el("table", null, null, div), tr = table.insertRow();
    el("th", null, T.pupils, tr);
    tr.insertCell().textContent = p.pupils === null ? "–" : p.pupils.toFixed(1);
    tr = table.insertRow();
    el("th", null, T.school, tr);
    tr.insertCell().textContent = (p.schools || []).map(function (c) { return schoolName(c) + " (" + c + ")"; }).join(", ");
    el("div", null, T.move_to, div);
    var select = el("select", "catchment-move-select", null, div);
    cfg.schools.map(function (s) { return {s: s, d: map.distance(latlng, [s.lat, s.lon])}; })
      .filter(function (x) { return (p.schools || []).indexOf(x.s.code) < 0; })
      .sort(function (a, b) { return a.d - b.d; })
      .forEach(function (x) {
        var o = el("option", null, x.s.name + " (" + x.s.code + ") · " + fmt(T.km, {d: (x.d / 1000).toFixed(1)}), select);
        o.value = x.s.code;
      });
    el("br", null, null, div);
    el("button", "catchment-move-btn", T.move, div).addEventListener("click", function () {
      closePopup();
      moveUnits(Object.fromEntries([[p.id, select.value]]));
    });
    if (window.catchmentProposal) { window.catchmentProposal.unitPopup(p, div, closePopup); }
    var zl = zoneLayer(p.zone_id);
    if (zl) {
      el("button", "ce-unit-zone", T.edit_zone, div).addEventListener("click", function () { closePopup(); openZone(zl, latlng); });
    }
    openPopup(latlng, div, 340);
  }

  /* Move demand units to schools: ``moves`` is {unit id: school code}. */
  function moveUnits(moves) {
    var involved = [];
    units.eachLayer(function (l) {
      if (moves[l.feature.properties.id] !== undefined) { involved = involved.concat(l.feature.properties.schools || []); }
    });
    Object.keys(moves).forEach(function (k) { involved.push(moves[k]); });
    var body = {op: "move_units", moves: moves};
    if (state.demand) { body.demand = state.demand; }
    return write(cfg.urls.edits, body, involved).then(function (ok) {
      if (ok) {
        Object.keys(moves).forEach(function (k) { state.moved[k] = true; });
        units.setStyle(unitStyle);
      }
      return ok;
    });
  }

  // ------------------------------------------------------------------ tallies
  function showTallies(rows, involved) {
    var byRow = {}, before = state.rows, picked = [];
    rows.forEach(function (r) { byRow[r.code] = r; });
    if (before === null) {
      picked = rows.filter(function (r) { return r.utilisation_demand !== null || r.utilisation_enrolment !== null; })
        .sort(function (a, b) { return use(b) - use(a); }).slice(0, 6).map(function (r) { return {after: r, before: null}; });
    } else {
      var codes = {};
      rows.forEach(function (r) {
        var b = before[r.code];
        if (!b || Math.abs((r.demand || 0) - (b.demand || 0)) >= 0.05) { codes[r.code] = true; }
      });
      Object.keys(before).forEach(function (c) { if (!byRow[c]) { codes[c] = true; } });
      (involved || []).forEach(function (c) { codes[c] = true; });
      picked = Object.keys(codes).map(function (c) { return {after: byRow[c] || null, before: before[c] || null}; })
        .sort(function (a, b) { return delta(b) - delta(a); }).slice(0, 8);
    }
    state.rows = byRow;
    state.tallies = picked;
    var title = q(".ce-tallies-title"), table = q(".ce-tallies"), note = q(".ce-tallies-note");
    title.textContent = before === null ? T.tallies_top : T.tallies_changed;
    table.tHead.innerHTML = "";
    var h = table.tHead.insertRow();
    [T.school, T.seats, T.pupils, T.use].forEach(function (t) { el("th", null, t, h); });
    var body = table.tBodies[0];
    body.innerHTML = "";
    picked.forEach(function (x) {
      var r = x.after || x.before, tr = body.insertRow();
      tr.setAttribute("data-code", r.code);
      tr.setAttribute("data-demand", x.after ? String(x.after.demand) : "");
      tr.setAttribute("data-before", x.before ? String(x.before.demand) : "");
      tr.insertCell().textContent = r.name + " (" + r.code + ")";
      var seats = tr.insertCell();
      seats.className = "num";
      seats.textContent = int(r.capacity);
      var pupils = tr.insertCell(), usage = tr.insertCell();
      pupils.className = "num ce-demand";
      usage.className = "num ce-use";
      var chip = el("span", "ce-chip", null, usage);
      chip.style.background = cfg.bandColours[(x.after || {}).band_demand] || cfg.noData;
      if (x.before && x.after) {
        pupils.textContent = int(x.before.demand) + " → " + int(x.after.demand);
        usage.appendChild(document.createTextNode(pct(x.before.utilisation_demand) + " → " + pct(x.after.utilisation_demand)));
      } else {
        pupils.textContent = int(r.demand);
        usage.appendChild(document.createTextNode(pct(use(r))));
      }
      usage.title = (x.after || r)[cfg.lang === "zh" ? "band_demand_zh" : "band_demand_en"] || "";
    });
    note.textContent = before !== null && !picked.length ? T.tallies_none : "";
  }
  function use(r) {
    var u = r.utilisation_demand !== null && r.utilisation_demand !== undefined ? r.utilisation_demand : r.utilisation_enrolment;
    return u === null || u === undefined ? -1 : u;
  }
  function delta(x) { return Math.abs(((x.after || {}).demand || 0) - ((x.before || {}).demand || 0)); }

  // ------------------------------------------------------------------ validation
  function showFindings(doc) {
    findings.clearLayers();
    findings.addData(doc.findings);
    var feats = doc.findings.features, counts = doc.counts || {}, before = state.counts;
    var box = q(".ce-counts"), list = q(".ce-findings");
    box.innerHTML = "";
    list.innerHTML = "";
    var nWarn = feats.filter(function (f) { return f.properties.severity === "warning"; }).length;
    var head = el("div", null, null, box);
    el("b", null, fmt(T.errors, {n: doc.errors}), head).style.color = doc.errors ? cfg.severityColours.error : "";
    head.appendChild(document.createTextNode(" · " + fmt(T.warnings, {n: nWarn})));
    var codes = Object.keys(counts).concat(Object.keys(before || {})).filter(function (c, i, a) { return a.indexOf(c) === i; });
    codes.sort().forEach(function (c) {
      var n = counts[c] || 0, d = before ? n - (before[c] || 0) : 0;
      var s = el("span", "ce-count", (cfg.findingNames[c] || c) + " " + n, box);
      s.setAttribute("data-code", c);
      s.setAttribute("data-count", n);
      if (d) { el("span", "ce-delta", " (" + (d > 0 ? "+" : "") + d + ")", s); }
    });
    if (!feats.length) { el("div", null, T.no_findings, box); }
    state.counts = counts;
    var shown = feats.slice().sort(function (a, b) { return rank(a) - rank(b); });
    shown.slice(0, SHOWN).forEach(function (f) {
      var li = el("li", f.properties.severity, (f.properties.message || {})[cfg.lang] || f.properties.code, list);
      li.setAttribute("data-code", f.properties.code);
      if (f.geometry) {
        li.addEventListener("click", function () { map.fitBounds(L.geoJson(f).getBounds(), {maxZoom: 16, padding: [30, 30]}); });
      }
    });
    if (shown.length > SHOWN) { el("li", "more", fmt(T.more, {n: shown.length - SHOWN}), list); }
  }
  function rank(f) {
    // New kinds of finding first, then errors before warnings.
    var fresh = state.counts && f.properties.code && !(f.properties.code in (state.counts || {})) ? 0 : 1;
    var order = ["error", "warning", "info"].indexOf(f.properties.severity);
    return fresh * 10 + (order < 0 ? 3 : order);
  }

  function showHistory(h) {
    panel.querySelector(".ce-undo").disabled = !h.can_undo;
    panel.querySelector(".ce-redo").disabled = !h.can_redo;
  }

  // ------------------------------------------------------------------ start
  drawZones(cfg.zones);
  setVersion(cfg.plan.version);
  window.catchmentLayers = window.catchmentLayers || {};
  window.catchmentLayers.zones = zones;
  window.catchmentLayers.units = units;
  window.catchmentLayers.findings = findings;
  window.catchmentEditor = {
    state: state, replaceGeometry: replaceGeometry, moveUnits: moveUnits, reload: reload, loadUnits: loadUnits,
    key: key, restyleUnits: function () { units.setStyle(unitStyle); }, problemText: problemText, cfg: cfg,
    undo: function () { return write(cfg.urls.undo, null, []); },
    redo: function () { return write(cfg.urls.redo, null, []); },
    ready: false
  };
  state.pending += 1;
  Promise.all([getJSON(cfg.urls.capacity), getJSON(cfg.urls.validation), getJSON(cfg.urls.history)]).then(function (got) {
    showTallies(got[0].body.rows || [], []);
    state.counts = null;
    showFindings(got[1].body);
    showHistory(got[2].body);
    window.catchmentEditor.ready = true;
  }).catch(function (err) {
    say(T.network + ": " + err.message, "error");
  }).finally(function () {
    state.pending -= 1;
  });
}
