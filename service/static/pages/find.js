// The parents' page: an address (type-ahead), "use my location" or a map click -> the school(s) per level.
(function () {
  "use strict";
  var c = window.catchment, t = c.t, el = c.el;
  var COLOURS = ["#e66101", "#1f78b4", "#5e3c99", "#1b7837"];
  var $ = function (id) { return document.getElementById(id); };
  var input = $("address"), list = $("suggestions"), status = $("status"), problem = $("problem"), choices = $("choices");
  var answer = $("answer");
  var state = {pending: 0, query: null, answer: null, active: -1, suggestions: [], suggestSeq: 0, runSeq: 0, timer: null};

  var map = c.makeMap("map", {worldCopyJump: true});
  map.setView([20, 0], 2);
  var layers = {zones: L.featureGroup().addTo(map), marks: L.featureGroup().addTo(map)};
  window.catchmentFind = {state: state, map: map, layers: layers};

  function busy(delta) { state.pending += delta; document.body.setAttribute("aria-busy", state.pending > 0 ? "true" : "false"); }

  function say(text) { status.textContent = text || ""; }

  function showProblem(text, detail) {
    c.clear(problem);
    problem.appendChild(el("p", {text: text}));
    if (detail) { problem.appendChild(el("p", {class: "detail", text: t("server_said", {detail: detail})})); }
    problem.hidden = false;
  }

  function reset() {
    problem.hidden = true; c.clear(problem);
    choices.hidden = true; c.clear(choices);
  }

  // ---- type-ahead -------------------------------------------------------------------------
  function closeList() {
    list.hidden = true; c.clear(list); state.suggestions = []; state.active = -1;
    input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant");
  }

  function markActive(i) {
    state.active = i;
    Array.prototype.forEach.call(list.children, function (li, j) { li.setAttribute("aria-selected", j === i ? "true" : "false"); });
    if (i >= 0) { input.setAttribute("aria-activedescendant", "suggestion-" + i); } else { input.removeAttribute("aria-activedescendant"); }
  }

  function showSuggestions(found) {
    c.clear(list); state.suggestions = found; state.active = -1;
    if (!found.length) { closeList(); say(t("no_suggestions")); return; }
    found.forEach(function (s, i) {
      var li = el("li", {id: "suggestion-" + i, role: "option", "aria-selected": "false", class: "suggestion", text: s.address});
      // mousedown, not click: the input keeps focus, so the list does not close under the pointer first.
      li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
      list.appendChild(li);
    });
    list.hidden = false; input.setAttribute("aria-expanded", "true");
    say(t("suggest_count", {n: found.length}));
  }

  function suggest() {
    var q = input.value.trim();
    if (q.length < 2) { closeList(); return; }
    var seq = ++state.suggestSeq;
    busy(1);
    c.request("/v1/addresses/suggest", {q: q, limit: 8}).then(function (res) {
      busy(-1);
      if (seq !== state.suggestSeq || document.activeElement !== input) { return; }
      if (res.ok) { showSuggestions(res.body.suggestions); }
    });
  }

  function pick(i) {
    var s = state.suggestions[i];
    if (!s) { return; }
    input.value = s.address;
    closeList();
    run({address: s.address}, true);
  }

  input.addEventListener("input", function () { clearTimeout(state.timer); state.timer = setTimeout(suggest, 120); });
  input.addEventListener("keydown", function (e) {
    var n = state.suggestions.length;
    if (e.key === "ArrowDown" && n) { e.preventDefault(); markActive((state.active + 1) % n); }
    else if (e.key === "ArrowUp" && n) { e.preventDefault(); markActive((state.active - 1 + n) % n); }
    else if (e.key === "Escape") { clearTimeout(state.timer); state.suggestSeq++; closeList(); }
    else if (e.key === "Enter" && n && state.active >= 0) { e.preventDefault(); pick(state.active); }
  });
  input.addEventListener("blur", function () { setTimeout(closeList, 150); });

  $("find-form").addEventListener("submit", function (e) {
    e.preventDefault();
    clearTimeout(state.timer); state.suggestSeq++; closeList();
    var q = input.value.trim();
    if (!q) { say(t("empty_query")); input.focus(); return; }
    run({address: q}, true);
  });

  $("locate").addEventListener("click", function () {
    if (!navigator.geolocation) { showProblem(t("locate_unsupported")); return; }
    say(t("locating"));
    navigator.geolocation.getCurrentPosition(function (pos) {
      run({lon: pos.coords.longitude.toFixed(6), lat: pos.coords.latitude.toFixed(6)}, true);
    }, function (err) { say(""); showProblem(t("locate_failed", {reason: err.message})); }, {timeout: 10000});
  });

  map.on("click", function (e) {
    var ll = e.latlng.wrap();
    run({lon: ll.lng.toFixed(6), lat: ll.lat.toFixed(6)}, true);
  });

  $("copy").addEventListener("click", function () {
    var link = $("share-link");
    link.select();
    var done = function () { say(t("copied")); };
    if (navigator.clipboard) { navigator.clipboard.writeText(link.value).then(done, done); } else { done(); }
  });

  // ---- the lookup ---------------------------------------------------------------------------
  function yearAsked() {
    var y = new URLSearchParams(window.location.search).get("year");
    return y && /^\d{4}$/.test(y) ? y : null;
  }

  function run(query, push) {
    reset();
    var seq = ++state.runSeq;
    var params = Object.assign({}, query, {year: yearAsked()});
    state.query = query;
    c.setQuery(params, push);
    say(t("loading"));
    busy(1);
    c.request("/v1/lookup", params).then(function (res) {
      busy(-1);
      if (seq !== state.runSeq) { return; }
      say("");
      if (res.ok) { show(res.body, seq); return; }
      answer.hidden = true;
      var detail = res.body && res.body.detail, q = query.address || "";
      if (res.status === 404) { showProblem(t("not_found", {q: q})); }
      else if (res.status === 409 && res.body && res.body.candidates) { showChoices(q, res.body.candidates); }
      else if (res.status === 503) { showProblem(t("geocoder_down")); }
      else if (res.status === 422) { showProblem(t("bad_input", {detail: detail}), null); }
      else { showProblem(c.problemText(res), detail); }
    });
  }

  function showChoices(q, candidates) {
    c.clear(choices);
    var ul = el("ul", {class: "choice-list"});
    candidates.forEach(function (cand) {
      var b = el("button", {type: "button", class: "choice", text: cand.address});
      b.addEventListener("click", function () { input.value = cand.address; run({address: cand.address}, true); });
      ul.appendChild(el("li", {}, b));
    });
    choices.appendChild(el("p", {id: "choices-heading", class: "choices-heading", text: t("ambiguous", {q: q})}));
    choices.appendChild(ul);
    choices.setAttribute("role", "group"); choices.setAttribute("aria-labelledby", "choices-heading");
    choices.hidden = false;
    ul.querySelector("button").focus();
  }

  function schoolLine(s) {
    var bits = [t("straight", {d: c.distance(s.distance_m)})];
    if (s.walk_m !== null && s.walk_m !== undefined) { bits.push(t("walking", {d: c.distance(s.walk_m)})); }
    if (s.drive_s !== null && s.drive_s !== undefined) { bits.push(t("driving", {t: c.minutes(s.drive_s)})); }
    var mark = s.status === "planned" ? " " + t("status_planned") : s.status === "closed" ? " " + t("status_closed") : "";
    var li = el("li", {class: "school", "data-code": s.code},
                el("strong", {class: "school-name", text: s.name + mark}),
                s.name_local ? el("span", {class: "school-local", lang: "zh", text: " " + s.name_local}) : null,
                el("span", {class: "school-distance", text: bits.join(" · ")}));
    if (s.feeders && s.feeders.length) {
      li.appendChild(el("span", {class: "feeders", text: t("feeds", {schools: s.feeders.map(function (f) { return f.name; }).join(" → ")})}));
    }
    return li;
  }

  // ---- admission odds in a shared zone (多校划片) --------------------------------------------
  function zoneOdds(level, z) {
    var key = z.schools.map(function (s) { return s.code; }).sort().join("|");
    return (state.answer.admission || []).filter(function (a) {
      return a.level === level && a.schools.slice().sort().join("|") === key && (!z.plan || z.plan.id === undefined || a.plan_id === z.plan.id);
    })[0] || null;
  }

  function pct(o) {
    var p = Math.round(o.probability * 1000) / 10 + "%";
    return o.stderr === null || o.stderr === undefined ? p : p + " ± " + Math.round(o.stderr * 1000) / 10 + "%";
  }

  function oddsTable(a, z) {
    var names = {};
    z.schools.forEach(function (s) { names[s.code] = c.config.lang === "zh" && s.name_local ? s.name_local : s.name; });
    var method = a.method === "exact" ? t("odds_exact") : t("odds_mc", {runs: a.runs});
    var places = Object.keys(a.places).reduce(function (n, k) { return n + a.places[k]; }, 0);
    var label = function (o) { return (c.config.lang === "zh" ? o.label_zh : o.label_en) || o.category; };
    return el("div", {class: "odds"},
      el("table", {class: "odds-table"},
        el("caption", {text: t("odds_title", {method: method, places: places, applicants: a.applicants})}),
        el("thead", {}, el("tr", {}, el("th", {scope: "col", text: t("odds_category")}), el("th", {scope: "col", text: t("odds_school")}),
                             el("th", {scope: "col", text: t("odds_chance")}))),
        el("tbody", {}, a.odds.map(function (o) {
          return el("tr", {"data-category": o.category, "data-school": o.school},
                    el("td", {text: label(o)}), el("td", {text: names[o.school] || o.school}), el("td", {text: pct(o)}));
        }))),
      el("p", {class: "note", text: t("odds_how")}));
  }

  function levelBlock(lv, i) {
    var box = el("article", {class: "level", "data-level": lv.level, style: null},
                 el("h3", {}, el("span", {class: "swatch swatch-" + (i % COLOURS.length), "aria-hidden": "true"}), c.levelName(lv.level)));
    if (!lv.covered) {
      box.appendChild(el("p", {class: "note", text: t("no_zone")}));
      box.appendChild(el("ul", {class: "schools nearest"}, lv.nearest_schools.map(schoolLine)));
    }
    lv.zones.forEach(function (z) {
      var part = el("div", {class: "zone", "data-zone": z.zone_id});
      if (z.zone_name) { part.appendChild(el("p", {class: "zone-name", text: t("zone") + ": " + z.zone_name})); }
      part.appendChild(el("p", {class: "label", text: z.multi_school ? t("zoned_schools") : t("zoned_school")}));
      part.appendChild(el("ul", {class: "schools"}, z.schools.map(schoolLine)));
      part.appendChild(el("p", {class: "meta", text: t("plan_year", {plan: z.plan.name, year: z.plan.school_year})}));
      if (z.on_boundary) { part.appendChild(el("p", {class: "warn", text: t("on_boundary")})); }
      else if (z.near_boundary_m !== null) { part.appendChild(el("p", {class: "warn", text: t("near_boundary", {m: c.distance(z.near_boundary_m)})})); }
      if (z.multi_school) {
        part.appendChild(el("p", {class: "note", text: t("shared_zone", {n: z.schools.length})}));
        var odds = zoneOdds(lv.level, z);
        part.appendChild(odds ? oddsTable(odds, z) : el("p", {class: "note", text: t("no_odds")}));
      }
      box.appendChild(part);
    });
    box.appendChild(el("p", {class: "next-year", hidden: true}));
    return box;
  }

  function show(body, seq) {
    state.answer = body;
    var levels = $("answer-levels");
    c.clear(levels);
    var place = body.geocode ? body.geocode.address : t("point", {lat: body.lat.toFixed(5), lon: body.lon.toFixed(5)});
    $("answer-place").textContent = t("answer_for", {place: place});
    if (body.geocode && body.geocode.precision !== "exact") {
      $("answer-place").appendChild(el("span", {class: "matched", text: " " + t("matched", {address: body.geocode.address,
        precision: t("precision_" + body.geocode.precision)})}));
    }
    if (!body.levels.length) { levels.appendChild(el("p", {class: "note", text: t("no_level")})); }
    body.levels.forEach(function (lv, i) { levels.appendChild(levelBlock(lv, i)); });
    $("answer-explanation").textContent = body.explanation[c.config.lang] || body.explanation.en || "";
    $("share-link").value = window.location.href;
    answer.hidden = false;
    answer.focus();
    draw(body, seq);
    nextYear(body, seq);
  }

  // ---- the map ------------------------------------------------------------------------------
  function draw(body, seq) {
    layers.zones.clearLayers(); layers.marks.clearLayers();
    var here = [body.lat, body.lon];
    var colour = {};
    body.levels.forEach(function (lv, i) { colour[lv.level] = COLOURS[i % COLOURS.length]; });
    L.circleMarker(here, {radius: 8, color: "#111", weight: 3, fillColor: "#fff", fillOpacity: 1})
      .bindTooltip(c.textNode(t("you_are_here"))).addTo(layers.marks);
    body.levels.forEach(function (lv) {
      var schools = lv.covered ? [].concat.apply([], lv.zones.map(function (z) { return z.schools; })) : lv.nearest_schools;
      schools.forEach(function (s) {
        L.polyline([here, [s.lat, s.lon]], {color: colour[lv.level], weight: 2, dashArray: "6 6", interactive: false}).addTo(layers.marks);
        L.circleMarker([s.lat, s.lon], {radius: 7, color: colour[lv.level], weight: 3, fillColor: "#fff", fillOpacity: 1,
                                        className: "school-mark"})
          .bindTooltip(c.textNode(s.name + " · " + c.distance(s.distance_m))).addTo(layers.marks);
      });
    });
    fit();
    busy(1);
    c.request("/v1/lookup/zones", {lon: body.lon, lat: body.lat, year: yearAsked()}).then(function (res) {
      busy(-1);
      if (seq !== state.runSeq || !res.ok) { return; }
      L.geoJSON(res.body, {interactive: false, style: function (f) {
        var col = colour[f.properties.level] || COLOURS[0];
        return {color: col, weight: 2, fillColor: col, fillOpacity: 0.18};
      }}).addTo(layers.zones);
      fit();
    });
  }

  function fit() {
    var b = layers.marks.getBounds();
    if (layers.zones.getLayers().length) { b.extend(layers.zones.getBounds()); }
    if (b.isValid()) { map.fitBounds(b, {padding: [24, 24], maxZoom: 16, animate: false}); }
  }

  // Next school year's answer, when it differs (a plan adopted for next year, a zone phasing in).
  function nextYear(body, seq) {
    var year = Number(yearAsked() || c.config.year) + 1;
    busy(1);
    c.request("/v1/lookup", {lon: body.lon, lat: body.lat, year: year}).then(function (res) {
      busy(-1);
      if (seq !== state.runSeq || !res.ok) { return; }
      var later = {};
      res.body.levels.forEach(function (lv) { later[lv.level] = lv; });
      body.levels.forEach(function (lv) {
        var now = codes(lv), next = later[lv.level], box = document.querySelector('.level[data-level="' + CSS.escape(lv.level) + '"] .next-year');
        var nextCodes = next ? codes(next) : "";
        if (!box || nextCodes === now) { return; }
        if (!next || !next.covered) { box.textContent = t("next_year_none", {year: year}); }
        else {
          var names = [].concat.apply([], next.zones.map(function (z) { return z.schools.map(function (s) { return s.name; }); }));
          box.textContent = t("next_year", {year: year, schools: names.join(", ")});
        }
        box.hidden = false;
      });
    });
  }

  function codes(lv) {
    if (!lv.covered) { return ""; }
    return lv.zones.map(function (z) { return z.schools.map(function (s) { return s.code; }).join("+"); }).sort().join("|");
  }

  // ---- start: the query in the URL (a shared link) is answered at once -------------------------
  function fromUrl() {
    var q = new URLSearchParams(window.location.search);
    if (q.get("address")) { input.value = q.get("address"); run({address: q.get("address")}, false); }
    else if (q.get("lon") && q.get("lat")) { run({lon: q.get("lon"), lat: q.get("lat")}, false); }
    else { answer.hidden = true; reset(); layers.zones.clearLayers(); layers.marks.clearLayers(); }
  }
  window.addEventListener("popstate", fromUrl);
  c.updateLangLink();
  fromUrl();
  window.catchmentFind.ready = true;
})();
