"""The HTML report's style sheet and script, inlined into every report (it loads nothing).

The page reads whole without the script: the script only adds sorting of the activations table
and filtering by status, server and user, whose controls stay hidden until it runs, and draws the
cards a large report holds folded (`render.html_details.STATIC_CARDS`) as they near the screen.

The activations table is table markup, laid out as a grid per row (each row a grid of the same
columns) rather than as a CSS table: a table's layout is redone whole as rows arrive while the
page loads, which made 10,000 rows cost seconds, and a row that is off screen is not laid out at
all (``content-visibility``).  The rows carry their table roles explicitly, since some browsers
drop them from a table that is not displayed as one.  On a narrow screen each row becomes a block
of labelled lines, so that a phone never scrolls sideways.  The page prints without its controls.
"""

from __future__ import annotations

CSS = """
:root{--ok:#1a7f37;--run:#0550ae;--stall:#8a5a00;--fail:#c5221f;--ink:#1f2328;--mute:#57606a;
--line:#d0d7de;--band:#f6f8fa;--hit:#fff8c5}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--ink);background:#fff}
header,main,footer{max-width:1200px;margin:0 auto;padding:0 16px}
footer{color:var(--mute);font-size:.85em;padding-bottom:2rem}
h1{font-size:1.6rem;margin:1rem 0 .25rem}
h2{font-size:1.3rem;margin:2rem 0 .5rem;padding-bottom:.2rem;border-bottom:1px solid var(--line)}
h3{font-size:1.05rem;margin:0 0 .4rem;overflow-wrap:anywhere}
h4{font-size:.95rem;margin:.75rem 0 .25rem}
a{color:var(--run)}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;
font-size:.85em}
code{overflow-wrap:anywhere}
.meta,.small{color:var(--mute)}
.small{font-size:.85em}
nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;margin:.5rem 0}
table{border-collapse:collapse;width:100%}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{text-align:left;vertical-align:top;padding:.3rem .45rem;border-bottom:1px solid var(--line);
overflow-wrap:break-word}
thead th{background:var(--band)}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto;max-width:100%}
.st{font-weight:600;white-space:nowrap}
.st-complete{color:var(--ok)}.st-in_progress{color:var(--run)}
.st-stalled{color:var(--stall)}.st-failed{color:var(--fail)}
.counts{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;font-size:1.05rem;margin:.5rem 0;padding:0;
list-style:none}
table.acts,table.acts thead,table.acts tbody{display:block}
table.acts caption{display:block;text-align:left}
table.acts tr{display:grid;grid-template-columns:9fr 20fr 9fr 12fr 20fr 10fr 15fr 5fr;
border-bottom:1px solid var(--line)}
table.acts tbody{content-visibility:auto;contain-intrinsic-size:auto 12800px}
.cards{content-visibility:auto;contain-intrinsic-size:auto 9000px}
table.acts th,table.acts td{display:block;border:0;min-width:0;overflow-wrap:anywhere}
table.acts tr[hidden]{display:none}
button.sort{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:inherit;text-align:left}
button.sort::after{content:" \\2195";color:var(--mute)}
th[aria-sort=ascending] button.sort::after{content:" \\2191"}
th[aria-sort=descending] button.sort::after{content:" \\2193"}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:flex-end;margin:.5rem 0 1rem}
form.filters fieldset{border:1px solid var(--line);border-radius:6px;padding:.2rem .75rem .4rem;margin:0}
form.filters fieldset label{margin-right:.75rem;white-space:nowrap}
form.filters .field{display:flex;flex-direction:column;gap:.15rem}
form.filters input[type=search],form.filters select{font:inherit;padding:.2rem .3rem;max-width:100%}
.nojs .js-only{display:none}
.card{border:1px solid var(--line);border-left:6px solid var(--mute);border-radius:6px;padding:.75rem 1rem;
margin:1rem 0}
.card.complete{border-left-color:var(--ok)}
.card.in_progress{border-left-color:var(--run)}
.card.stalled{border-left-color:var(--stall)}.card.failed{border-left-color:var(--fail)}
dl.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem 1rem;margin:.5rem 0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;overflow-wrap:anywhere}
dl.facts ul{margin:0;padding-left:1.1rem}
pre.ctx{background:var(--band);border:1px solid var(--line);border-radius:4px;padding:.4rem .5rem;
white-space:pre-wrap;overflow-wrap:anywhere;margin:.25rem 0 .75rem}
pre.ctx .hit{background:var(--hit);font-weight:600}
pre.ctx .ln{color:var(--mute);user-select:none}
figure{margin:.5rem 0}
figcaption{font-size:.85em;color:var(--mute)}
svg.tl,svg.chart{max-width:100%;height:auto;display:block}
svg.defs{position:absolute}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:var(--ink)}
svg .lab{fill:var(--mute)}
svg .tick{fill:var(--mute);text-anchor:middle}
svg .tick.end,svg .gapl{text-anchor:end}
svg .axis{stroke:var(--line);stroke-width:1}
svg .brk path{stroke:var(--mute);stroke-width:1.5}
svg .att .path{fill:none;stroke:var(--mute);stroke-width:1}
svg .att circle{fill:var(--ink);stroke:#fff;stroke-width:1}
svg .att .err{stroke:var(--fail);stroke-width:2.5}
svg .att.early{opacity:.35}
svg .mk{cursor:help}
svg .gap .wait{stroke:var(--mute);stroke-dasharray:2 3}
svg .gap .ok{fill:#d8dee4}
svg .gap .late{fill:url(#p-stalled)}
svg .gap .thr{stroke:var(--ink);stroke-dasharray:3 2}
svg .gap .thl{text-anchor:middle;font-size:10px}
svg .track{fill:var(--band)}svg .p90{fill:#9ab6d9}svg .med{fill:var(--run)}
svg .cnt{text-anchor:middle;font-size:9px;fill:var(--mute)}
.s-complete{fill:var(--ok)}.s-in_progress{fill:var(--run)}.s-stalled{fill:url(#p-stalled)}.s-failed{fill:url(#p-failed)}
.pf-stalled{fill:var(--stall)}.pf-failed{fill:var(--fail)}
.hatch{fill:#fff;opacity:.55}.xhatch{stroke:#fff;stroke-width:1.2;opacity:.7}
.legend{display:flex;flex-wrap:wrap;gap:.25rem 1rem;font-size:.85em;margin:.25rem 0}
.legend svg{vertical-align:middle}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:.5rem 2rem;
align-items:start}
.charts table{font-size:.9em}
#stats h3{margin-top:1.5rem}
.charts h3{font-size:.95rem}
details{margin:.4rem 0}
summary{cursor:pointer}
@media (max-width:720px){
header,main,footer{padding:0 10px}
dl.facts{grid-template-columns:minmax(0,1fr)}
dl.facts dd{margin-bottom:.3rem}
table.acts thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
table.acts tr{grid-template-columns:minmax(0,1fr);border-bottom:2px solid var(--line);padding:.35rem 0}
table.acts td{padding:.05rem .2rem;text-align:left}
table.acts td::before{content:attr(data-label) ": ";font-weight:600;color:var(--mute)}
.card{padding:.6rem .6rem}
}
@media print{
.js-only,nav{display:none!important}
body{font-size:10pt}
header,main,footer{max-width:none;padding:0}
.card{break-inside:avoid}
.cards,table.acts tbody{content-visibility:visible}
a{color:inherit;text-decoration:none}
tr{break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""

JS = """
(function () {
  "use strict";
  var doc = document, root = doc.documentElement;
  root.classList.remove("nojs");
  root.classList.add("js");
  var table = doc.getElementById("acts");
  var form = doc.getElementById("filters");
  if (!table || !form) { root.setAttribute("data-ready", "1"); return; }
  var bodies = table.tBodies;
  var rows = [];
  Array.prototype.forEach.call(bodies, function (b) {
    Array.prototype.forEach.call(b.rows, function (r) { rows.push(r); });
  });
  var per = bodies.length ? bodies[0].rows.length : 1;
  function draw(card) {
    var last = card && card.lastChild;
    if (last && last.nodeType === 8 && card.classList.contains("lazy")) {
      card.classList.remove("lazy");
      card.innerHTML = last.data;
    }
  }
  function drawIn(group) {
    Array.prototype.forEach.call(group.querySelectorAll("article.lazy"), draw);
  }
  var groups = Array.prototype.filter.call(doc.querySelectorAll("div.cards"), function (g) {
    return g.querySelector("article.lazy") !== null;
  });
  if (groups.length) {
    if ("IntersectionObserver" in window) {
      var seen = new IntersectionObserver(function (entries) {
        entries.forEach(function (e) {
          if (e.isIntersecting) { seen.unobserve(e.target); drawIn(e.target); }
        });
      }, { rootMargin: "2000px 0px" });
      groups.forEach(function (g) { seen.observe(g); });
    } else {
      groups.forEach(drawIn);
    }
    var linked = function () {
      if (location.hash.indexOf("#a-") === 0) { draw(doc.getElementById(location.hash.slice(1))); }
    };
    window.addEventListener("hashchange", linked);
    window.addEventListener("beforeprint", function () { groups.forEach(drawIn); });
    linked();
  }
  function card(i) { return doc.getElementById("a-" + i); }
  var boxes = form.querySelectorAll("input[name=status]");
  var server = form.querySelector("select[name=server]");
  var user = form.querySelector("input[name=user]");
  var shown = doc.getElementById("shown");
  form.hidden = false;
  // Names folded as --user folds them (names.fold): lower case, umlauts spelt out, accents off.
  var SPELT = {"\\u00e4": "ae", "\\u00f6": "oe", "\\u00fc": "ue", "\\u00df": "ss", "\\u00e6": "ae",
    "\\u00f8": "oe", "\\u00e5": "aa", "\\u2018": "'", "\\u2019": "'", "\\u201c": '"', "\\u201d": '"',
    "\\u2013": "-", "\\u2014": "-"};
  var SPELT_RE = new RegExp("[" + Object.keys(SPELT).join("") + "]", "g");
  function fold(text) {
    return text.toLowerCase().replace(SPELT_RE, function (c) {
      return SPELT[c];
    }).normalize("NFKD").replace(/[\\u0300-\\u036f]/g, "").replace(/\\s+/g, " ").trim()
      .replace(/ ?, ?/g, ", ");
  }
  function apply() {
    var want = {};
    Array.prototype.forEach.call(boxes, function (b) { want[b.value] = b.checked; });
    var s = server ? server.value : "";
    var q = user ? fold(user.value) : "";
    var n = 0;
    rows.forEach(function (r) {
      var ok = want[r.getAttribute("data-status")] === true &&
        (!s || r.getAttribute("data-server") === s) &&
        (!q || r.getAttribute("data-user").indexOf(q) >= 0);
      if (r.hidden === ok) {
        r.hidden = !ok;
        var c = card(r.getAttribute("data-i"));
        if (c) { c.hidden = !ok; }
      }
      if (ok) { n += 1; }
    });
    shown.textContent = "Showing " + n + " of " + rows.length + " activations";
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  var heads = table.tHead.rows[0].cells;
  function key(r, col) {
    var c = r.cells[col];
    var v = c.getAttribute("data-sort");
    return v === null ? c.textContent : v;
  }
  function sort(col, dir) {
    var numeric = heads[col].getAttribute("data-type") === "number";
    rows.sort(function (a, b) {
      var x = key(a, col), y = key(b, col), d;
      if (numeric) { d = (parseFloat(x) || 0) - (parseFloat(y) || 0); }
      else { d = fold(x).localeCompare(fold(y)); }
      return d * dir || (+a.getAttribute("data-i") - +b.getAttribute("data-i"));
    });
    // Back into the row groups, as many rows to a group as before.
    for (var g = 0; g < bodies.length; g += 1) {
      var frag = doc.createDocumentFragment();
      rows.slice(g * per, (g + 1) * per).forEach(function (r) { frag.appendChild(r); });
      bodies[g].appendChild(frag);
    }
    Array.prototype.forEach.call(heads, function (h, i) {
      if (i === col) { h.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending"); }
      else { h.removeAttribute("aria-sort"); }
    });
  }
  Array.prototype.forEach.call(heads, function (th, col) {
    var b = doc.createElement("button");
    b.type = "button";
    b.className = "sort";
    while (th.firstChild) { b.appendChild(th.firstChild); }
    th.appendChild(b);
    b.addEventListener("click", function () {
      sort(col, th.getAttribute("aria-sort") === "ascending" ? -1 : 1);
    });
  });
  shown.textContent = "Showing " + rows.length + " of " + rows.length + " activations";
  root.setAttribute("data-ready", "1");
})();
"""
