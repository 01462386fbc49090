/* The editing map of an optimiser proposal (see maps/editor_proposal.py): the parent's zones dashed,
 * the blocks that move highlighted (editor.js), blocks locked from their popup, and a re-run of the
 * optimiser from the parent plan with those locks (POST .../optimise, then the job polled for its gap).
 * Runs after catchmentStartEditor, whose window.catchmentEditor it uses (state, key, restyleUnits).
 */
function catchmentStartProposal(map, cfg) {
  "use strict";
  var P = cfg.proposal, T = P.labels, ed = window.catchmentEditor, state = ed.state;
  var box = document.querySelector(".ce-proposal");
  var lockedText = box.querySelector(".ce-locked"), status = box.querySelector(".ce-run-status");
  var runButton = box.querySelector(".ce-rerun"), result = box.querySelector(".ce-run-result");

  function fmt(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return values[k] !== undefined ? String(values[k]) : m; });
  }
  function say(text, kind) { status.textContent = text || ""; status.className = "ce-run-status ce-status " + (kind || ""); }
  function link(href, text) {
    var a = document.createElement("a");
    a.href = href; a.textContent = text; a.target = "_top";
    return a;
  }

  map.createPane("catchmentParent").style.zIndex = 385;
  map.getPane("catchmentParent").style.pointerEvents = "none";
  L.geoJson(P.parentZones, {
    pane: "catchmentParent", interactive: false, pmIgnore: true,
    style: function () { return {fill: false, color: "#111111", weight: 2, dashArray: "5 4", className: "catchment-parent-zone"}; }
  }).addTo(map);

  function showLocks() {
    var n = Object.keys(state.locks).length;
    lockedText.textContent = fmt(T.locked_n, {n: n});
  }

  function unitPopup(p, div, close) {
    var locked = state.locks[p.id] !== undefined;
    var b = document.createElement("button");
    b.className = "ce-lock";
    b.textContent = locked ? T.unlock : fmt(T.lock_to, {school: p.school || "?"});
    b.addEventListener("click", function () {
      if (locked) { delete state.locks[p.id]; } else if (p.school) { state.locks[p.id] = p.school; }
      ed.restyleUnits();
      showLocks();
      close();
    });
    div.appendChild(document.createElement("br"));
    div.appendChild(b);
  }

  function sleep(ms) { return new Promise(function (r) { window.setTimeout(r, ms); }); }

  async function poll(href) {
    for (;;) {
      var r = await fetch(href, {headers: {"Authorization": "Bearer " + ed.key(), "Accept": "application/json"}, cache: "no-store"});
      if (!r.ok) { throw new Error(await ed.problemText(r)); }
      var job = await r.json();
      var gap = job.progress.gap;
      if (job.status === "done") { return job; }
      if (job.status === "failed" || job.status === "cancelled") {
        throw new Error(job.error ? job.error.detail : job.status);
      }
      say(fmt(T.running, {gap: gap === null || gap === undefined ? "–" : (gap * 100).toFixed(2) + " %",
                          s: Math.round(job.progress.seconds || 0)}), "busy");
      await sleep(1000);
    }
  }

  async function rerun() {
    if (!ed.key()) { say(cfg.labels.need_key, "error"); return; }
    runButton.disabled = true;
    result.textContent = "";
    say(T.starting, "busy");
    try {
      var body = {options: {locks: state.locks, time_limit_s: P.timeLimit}};
      if (P.demand) { body.demand = P.demand; }
      var r = await fetch(P.optimiseUrl, {method: "POST", cache: "no-store",
        headers: {"Authorization": "Bearer " + ed.key(), "Content-Type": "application/json", "Accept": "application/json"},
        body: JSON.stringify(body)});
      if (r.status !== 202) { throw new Error(await ed.problemText(r)); }
      var job = await poll((await r.json()).href.replace(/^\/v1/, P.root + "/v1"));
      var res = job.result;
      say(fmt(T.done, {moved: Math.round(res.moved), over: Math.round(res.over_capacity_after),
                       gap: res.gap === null ? "–" : (res.gap * 100).toFixed(2) + " %"}), "ok");
      result.appendChild(link(fmt(P.editUrl, {id: res.plan_id}), fmt(T.open_draft, {id: res.plan_id})));
      result.appendChild(document.createTextNode(" · "));
      result.appendChild(link(fmt(P.compareUrl, {id: res.plan_id}), T.compare));
    } catch (err) {
      say(err.message, "error");
    } finally {
      runButton.disabled = false;
    }
  }

  runButton.addEventListener("click", rerun);
  showLocks();
  window.catchmentProposal = {unitPopup: unitPopup, rerun: rerun, ready: true};
}
