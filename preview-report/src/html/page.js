// The report page's filters. Reads the page data (JSON block #page-data) and the table the writer
// streamed; the filter state lives in the URL fragment (#decision=renamed&plugin=p&outcome=timeout&q=smith)
// so a link (or a test) can open the page filtered. No network: the page's policy allows none.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var body = document.getElementById("rows-body");
  var count = document.getElementById("shown-count");
  var controls = {
    decision: document.getElementById("filter-decision"),
    plugin: document.getElementById("filter-plugin"),
    outcome: document.getElementById("filter-outcome"),
    q: document.getElementById("filter-q"),
  };
  document.title = "Preview of " + data.summary.source;

  function addOptions(select, values) {
    values.forEach(function (v) {
      var o = document.createElement("option");
      o.value = v;
      o.textContent = v;
      select.appendChild(o);
    });
  }
  addOptions(controls.plugin, data.summary.plugins);
  addOptions(controls.outcome, data.table.outcomes);

  // One pass over the streamed rows: what each filter compares, so filtering never reads the DOM.
  var rows = [];
  for (var i = 0; i < body.rows.length; i++) {
    var tr = body.rows[i];
    var runs = [];
    var spans = tr.querySelectorAll(".run");
    for (var j = 0; j < spans.length; j++) {
      runs.push([spans[j].getAttribute("data-p"), spans[j].getAttribute("data-o")]);
    }
    rows.push({
      tr: tr,
      decision: tr.getAttribute("data-d"),
      logins: (tr.cells[2].textContent + "\n" + tr.cells[3].textContent).toLowerCase(),
      runs: runs,
    });
  }

  function fromFragment() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    var f = {};
    Object.keys(controls).forEach(function (k) {
      f[k] = params.get(k) || "";
    });
    return f;
  }

  function toFragment(f) {
    var params = new URLSearchParams();
    Object.keys(controls).forEach(function (k) {
      if (f[k]) params.set(k, f[k]);
    });
    var s = params.toString();
    history.replaceState(null, "", s ? "#" + s : location.pathname + location.search);
  }

  function show(f) {
    Object.keys(controls).forEach(function (k) {
      var c = controls[k];
      if (c.tagName === "SELECT" && f[k] && !Array.prototype.some.call(c.options, function (o) { return o.value === f[k]; })) {
        addOptions(c, [f[k]]);
      }
      c.value = f[k];
    });
  }

  function apply(f) {
    var q = f.q.toLowerCase();
    var byRun = f.plugin || f.outcome;
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var match =
        (!f.decision || r.decision === f.decision) &&
        (!q || r.logins.indexOf(q) !== -1) &&
        (!byRun ||
          r.runs.some(function (run) {
            return (!f.plugin || run[0] === f.plugin) && (!f.outcome || run[1] === f.outcome);
          }));
      if (r.tr.hidden === match) r.tr.hidden = !match;
      if (match) shown++;
    }
    count.textContent = shown + " of " + rows.length + " rows shown";
    count.setAttribute("data-shown", String(shown));
    count.setAttribute("data-total", String(rows.length));
  }

  function fromControls() {
    var f = {};
    Object.keys(controls).forEach(function (k) {
      f[k] = controls[k].value;
    });
    return f;
  }

  var timer = null;
  function onInput() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var f = fromControls();
      toFragment(f);
      apply(f);
    }, 80);
  }
  Object.keys(controls).forEach(function (k) {
    controls[k].addEventListener("input", onInput);
  });
  window.addEventListener("hashchange", function () {
    var f = fromFragment();
    show(f);
    apply(f);
  });

  var initial = fromFragment();
  show(initial);
  apply(initial);

  // What this page tried to load: resource timing lists every fetch (a blocked one too), the
  // head script counts the policy's refusals. Both stay 0 for a report.
  var check = document.getElementById("network-check");
  function networkCheck() {
    var n = performance.getEntriesByType("resource").length + (window.reportPolicyViolations || 0);
    check.setAttribute("data-requests", String(n));
    check.textContent =
      n === 0
        ? "This page loaded nothing from the network: everything is in this file."
        : "Warning: something in this page tried " + n + " load(s); its security policy blocked them.";
    check.className = n === 0 ? "ok" : "warn";
  }
  networkCheck();
  window.addEventListener("load", networkCheck);
})();
