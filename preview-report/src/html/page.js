// The report page's table and filters. The rows that change were streamed into JSON blocks
// (script.rows, one array per row, in the order html.rs writes them); the page renders the rows
// matching the filters a page at a time, as text only (never markup). The filter state lives in
// the URL fragment (#decision=renamed&plugin=p&outcome=timeout&q=smith&page=2) so a link, or a
// test, opens the page filtered. No network: the page's policy allows none.
(function () {
  "use strict";
  var PAGE = 500;
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var body = document.getElementById("rows-body");
  var count = document.getElementById("shown-count");
  var info = document.getElementById("page-info");
  var prev = document.getElementById("page-prev");
  var next = document.getElementById("page-next");
  var controls = {
    decision: document.getElementById("filter-decision"),
    plugin: document.getElementById("filter-plugin"),
    outcome: document.getElementById("filter-outcome"),
    q: document.getElementById("filter-q"),
  };
  var KEYS = ["decision", "plugin", "outcome", "q", "page"];
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

  // [line, decision, login_before, login_after, action, linked_user_id, conflicts, collision_with_line,
  //  [[plugin, outcome, latency_us]], latency_us, error]
  var rows = [];
  var blocks = document.querySelectorAll("script.rows");
  for (var b = 0; b < blocks.length; b++) {
    var parsed = JSON.parse(blocks[b].textContent);
    for (var i = 0; i < parsed.length; i++) {
      var r = parsed[i];
      r.logins = (r[2] + "\n" + r[3]).toLowerCase();
      rows.push(r);
    }
  }

  function duration(us) {
    if (us < 1000) return us + " µs";
    if (us < 1000000) return (us / 1000).toFixed(1) + " ms";
    return (us / 1000000).toFixed(2) + " s";
  }

  function cell(tr, text) {
    var td = document.createElement("td");
    if (text !== null && text !== undefined) td.textContent = String(text);
    tr.appendChild(td);
    return td;
  }

  function render(r) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-d", r[1]);
    cell(tr, r[0]);
    var badge = document.createElement("span");
    badge.className = "d d-" + r[1];
    badge.textContent = r[1];
    cell(tr, null).appendChild(badge);
    cell(tr, r[2]);
    cell(tr, r[3]);
    cell(tr, r[5] === null ? r[4] : r[4] + " → " + r[5]);
    cell(tr, r[6].join(", "));
    cell(tr, r[7]);
    var runs = cell(tr, null);
    r[8].forEach(function (run) {
      var s = document.createElement("span");
      s.className = run[1] === "ok" || run[1] === "changed" ? "run" : "run fail";
      s.setAttribute("data-p", run[0]);
      s.setAttribute("data-o", run[1]);
      s.textContent = run[0] + ": " + run[1] + " · " + duration(run[2]);
      runs.appendChild(s);
    });
    cell(tr, duration(r[9]));
    cell(tr, r[10]);
    return tr;
  }

  function fromFragment() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    var f = {};
    KEYS.forEach(function (k) {
      f[k] = params.get(k) || "";
    });
    return f;
  }

  function toFragment(f) {
    var params = new URLSearchParams();
    KEYS.forEach(function (k) {
      if (f[k] && !(k === "page" && f[k] === "1")) params.set(k, f[k]);
    });
    var s = params.toString();
    history.replaceState(null, "", s ? "#" + s : location.pathname + location.search);
  }

  function showControls(f) {
    Object.keys(controls).forEach(function (k) {
      var c = controls[k];
      var known = Array.prototype.some.call(c.options || [], function (o) {
        return o.value === f[k];
      });
      if (c.tagName === "SELECT" && f[k] && !known) addOptions(c, [f[k]]);
      c.value = f[k];
    });
  }

  function matches(f, r) {
    if (f.decision && r[1] !== f.decision) return false;
    if (f.q && r.logins.indexOf(f.q.toLowerCase()) === -1) return false;
    if (!f.plugin && !f.outcome) return true;
    return r[8].some(function (run) {
      return (!f.plugin || run[0] === f.plugin) && (!f.outcome || run[1] === f.outcome);
    });
  }

  var state = null;
  function apply(f) {
    state = f;
    var shown = rows.filter(function (r) {
      return matches(f, r);
    });
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    var page = Math.min(pages, Math.max(1, parseInt(f.page, 10) || 1));
    var from = (page - 1) * PAGE;
    var part = shown.slice(from, from + PAGE);
    var fragment = document.createDocumentFragment();
    part.forEach(function (r) {
      fragment.appendChild(render(r));
    });
    body.replaceChildren(fragment);
    count.textContent = shown.length + " of " + rows.length + " rows shown";
    count.setAttribute("data-shown", String(shown.length));
    count.setAttribute("data-total", String(rows.length));
    info.textContent = shown.length
      ? "rows " + (from + 1) + "–" + (from + part.length) + " of " + shown.length + " (page " + page + " of " + pages + ")"
      : "no row matches";
    info.setAttribute("data-page", String(page));
    prev.disabled = page <= 1;
    next.disabled = page >= pages;
    state.page = String(page);
  }

  function fromControls() {
    var f = {};
    Object.keys(controls).forEach(function (k) {
      f[k] = controls[k].value;
    });
    f.page = "1";
    return f;
  }

  var timer = null;
  function onInput() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var f = fromControls();
      apply(f);
      toFragment(f);
    }, 80);
  }
  Object.keys(controls).forEach(function (k) {
    controls[k].addEventListener("input", onInput);
  });
  function turn(by) {
    var f = Object.assign({}, state, { page: String((parseInt(state.page, 10) || 1) + by) });
    apply(f);
    toFragment(f);
  }
  prev.addEventListener("click", function () {
    turn(-1);
  });
  next.addEventListener("click", function () {
    turn(1);
  });
  window.addEventListener("hashchange", function () {
    var f = fromFragment();
    showControls(f);
    apply(f);
  });

  var initial = fromFragment();
  showControls(initial);
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
