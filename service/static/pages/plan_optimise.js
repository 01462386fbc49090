// The workspace's optimiser: start a job from the open plan, show its gap while it runs, stop it,
// and link the draft it stores (the workspace, its editing map, the compare map). After plan.js.
(function () {
  "use strict";
  var c = window.catchment, t = c.t, el = c.el, ws = window.catchmentPlan;
  var $ = function (id) { return document.getElementById(id); };
  var run = {job: null, timer: null, done: null};
  window.catchmentOptimise = run;

  function pct(v) { return v === null || v === undefined ? "–" : c.number(v * 100, 2) + " %"; }
  function say(text, cls) { $("optimise-status").textContent = text; $("optimise-status").className = cls || ""; }
  function running(on) {
    $("optimise-go").disabled = on; $("optimise-cancel").hidden = !on; $("optimise-progress").hidden = !on;
  }

  function shortfalls(list) {
    if (!list || !list.length) { return null; }
    return el("ul", {class: "shortfalls"}, list.slice(0, 10).map(function (f) {
      return el("li", {text: t("opt_short", {area: f.area, short: c.number(f.short, 1)})});
    }));
  }

  function finished(job, plan) {
    running(false);
    run.done = job;
    var box = $("optimise-result");
    c.clear(box);
    if (job.status === "cancelled") { say(t("opt_cancelled")); return; }
    if (job.status !== "done") {
      say(t("opt_failed", {detail: job.error ? job.error.detail : job.status}), "problem");
      var list = shortfalls(job.error && job.error.shortfalls);
      if (list) { box.appendChild(list); }
      return;
    }
    var r = job.result;
    say(t("opt_done", {s: c.number(r.seconds, 1), gap: pct(r.gap), moved: c.number(r.moved), before: c.number(r.over_capacity_before),
                       after: c.number(r.over_capacity_after)}), "ok");
    var lang = c.config.lang;
    box.appendChild(el("p", {class: "buttons"},
      el("a", {id: "optimise-open", href: c.url("/plan", {plan: r.plan_id, lang: lang}), text: t("opt_open", {id: r.plan_id})}),
      el("a", {href: c.url("/v1/maps/plan/" + r.plan_id + "/edit", {lang: lang}), text: t("opt_edit")}),
      el("a", {id: "optimise-compare", href: c.url("/v1/maps/compare", {a: plan.id, b: r.plan_id, lang: lang}), text: t("opt_compare")})));
  }

  function poll(id, plan) {
    c.request("/v1/jobs/" + id, null, {key: ws.state.key}).then(function (res) {
      if (!res.ok) { running(false); say(c.problemText(res), "problem"); return; }
      var job = res.body, p = job.progress || {};
      if (job.status === "done" || job.status === "failed" || job.status === "cancelled") { finished(job, plan); return; }
      $("optimise-progress").value = p.fraction || 0;
      say(t("opt_running", {gap: pct(p.gap), s: c.number(p.seconds || 0, 0)}));
      run.timer = window.setTimeout(function () { poll(id, plan); }, 1000);
    });
  }

  $("optimise-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var plan = ws.state.plan;
    if (!plan) { return; }
    if (!ws.state.key) { say(t("need_key"), "problem"); return; }
    var options = {max_utilisation: Number($("opt-util").value) || 1, time_limit_s: Number($("opt-time").value) || 60,
                   capacity: $("opt-capacity").value};
    var body = {options: options}, demand = $("opt-demand").value.trim();
    if (demand) { body.demand = demand; }
    c.clear($("optimise-result"));
    running(true);
    $("optimise-progress").value = 0;
    c.request("/v1/plans/" + plan.id + "/optimise", null, {method: "POST", key: ws.state.key, body: body}).then(function (res) {
      if (res.status !== 202) {
        running(false);
        say(t("opt_failed", {detail: res.body && res.body.detail ? res.body.detail : c.problemText(res)}), "problem");
        var list = shortfalls(res.body && res.body.shortfalls);
        if (list) { $("optimise-result").appendChild(list); }
        return;
      }
      run.job = res.body.id;
      say(t("opt_started", {id: res.body.id}));
      poll(res.body.id, plan);
    });
  });

  $("optimise-cancel").addEventListener("click", function () {
    if (run.job === null) { return; }
    c.request("/v1/jobs/" + run.job, null, {method: "DELETE", key: ws.state.key});
  });
})();
