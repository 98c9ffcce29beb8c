// The transmission graph of a cluster: cases, contacts and venues as nodes, exposures and
// infections as edges, laid out by a small force simulation in SVG. The data comes from a
// JSON block in the page (json_script); nothing is fetched, nothing is evaluated. Colours come
// from tracing.css by class (node status), so the page needs no inline style.
(function () {
  "use strict";
  var svg = document.getElementById("tracing-graph");
  var source = document.getElementById("tracing-graph-data");
  if (!svg || !source) { return; }
  var data;
  try { data = JSON.parse(source.textContent || "{}"); } catch (e) { return; }
  var info = document.getElementById("tracing-graph-info");
  var NS = "http://www.w3.org/2000/svg";
  var W = 900, H = 560;
  var nodes = data.nodes || [], links = data.links || [];
  var byId = {};
  nodes.forEach(function (n, i) {
    var a = (i / Math.max(1, nodes.length)) * Math.PI * 2;
    var r = n.type === "case" ? 60 : n.type === "venue" ? 150 : 230;
    n.x = W / 2 + r * Math.cos(a) + (i % 7);
    n.y = H / 2 + r * Math.sin(a) + (i % 5);
    n.vx = 0; n.vy = 0;
    byId[n.id] = n;
  });
  links = links.filter(function (l) { return byId[l.source] && byId[l.target]; });

  function el(name, attrs) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }
  var gLinks = el("g", {"class": "links"}), gNodes = el("g", {"class": "nodes"});
  svg.appendChild(gLinks); svg.appendChild(gNodes);
  var lineEls = links.map(function (l) {
    var line = el("line", {"class": "link " + l.kind});
    var t = document.createElementNS(NS, "title"); t.textContent = l.kind; line.appendChild(t);
    gLinks.appendChild(line);
    return line;
  });
  var nodeEls = nodes.map(function (n) {
    var shape = n.type === "venue"
      ? el("rect", {"class": "node " + n.status, width: 12, height: 12})
      : el("circle", {"class": "node " + n.status, r: n.type === "case" ? 9 : 6});
    var t = document.createElementNS(NS, "title"); t.textContent = n.label; shape.appendChild(t);
    shape.addEventListener("mouseenter", function () { if (info) { info.textContent = n.label + " · " + n.status; } });
    shape.addEventListener("pointerdown", function (ev) { drag = n; shape.setPointerCapture(ev.pointerId); });
    gNodes.appendChild(shape);
    return shape;
  });
  var drag = null;
  function point(ev) {
    var r = svg.getBoundingClientRect();
    return {x: (ev.clientX - r.left) * W / r.width, y: (ev.clientY - r.top) * H / r.height};
  }
  svg.addEventListener("pointermove", function (ev) {
    if (!drag) { return; }
    var p = point(ev); drag.x = p.x; drag.y = p.y; drag.vx = 0; drag.vy = 0; alpha = Math.max(alpha, 0.3); kick();
  });
  svg.addEventListener("pointerup", function () { drag = null; });

  var alpha = 1, running = false;
  function step() {
    var i, j, a, b, dx, dy, d2, f;
    // Repulsion between nodes (O(n^2); the page draws at most 1,500 contacts).
    for (i = 0; i < nodes.length; i++) {
      a = nodes[i];
      for (j = i + 1; j < nodes.length; j++) {
        b = nodes[j]; dx = a.x - b.x; dy = a.y - b.y; d2 = dx * dx + dy * dy + 0.01;
        if (d2 > 40000) { continue; }
        f = 120 * alpha / d2; a.vx += dx * f; a.vy += dy * f; b.vx -= dx * f; b.vy -= dy * f;
      }
    }
    // Springs along edges.
    links.forEach(function (l) {
      a = byId[l.source]; b = byId[l.target]; dx = b.x - a.x; dy = b.y - a.y;
      var d = Math.sqrt(dx * dx + dy * dy) || 1, want = l.kind === "infection" ? 70 : 45;
      f = (d - want) / d * 0.05 * alpha; a.vx += dx * f; a.vy += dy * f; b.vx -= dx * f; b.vy -= dy * f;
    });
    nodes.forEach(function (n) {
      n.vx += (W / 2 - n.x) * 0.002 * alpha; n.vy += (H / 2 - n.y) * 0.002 * alpha;
      if (n !== drag) { n.x += n.vx; n.y += n.vy; }
      n.vx *= 0.6; n.vy *= 0.6;
      n.x = Math.max(8, Math.min(W - 8, n.x)); n.y = Math.max(8, Math.min(H - 8, n.y));
    });
  }
  function draw() {
    links.forEach(function (l, k) {
      var a = byId[l.source], b = byId[l.target], e = lineEls[k];
      e.setAttribute("x1", a.x.toFixed(1)); e.setAttribute("y1", a.y.toFixed(1));
      e.setAttribute("x2", b.x.toFixed(1)); e.setAttribute("y2", b.y.toFixed(1));
    });
    nodes.forEach(function (n, k) {
      var e = nodeEls[k];
      if (n.type === "venue") { e.setAttribute("x", (n.x - 6).toFixed(1)); e.setAttribute("y", (n.y - 6).toFixed(1)); }
      else { e.setAttribute("cx", n.x.toFixed(1)); e.setAttribute("cy", n.y.toFixed(1)); }
    });
  }
  function tick() {
    step(); step(); draw();
    alpha *= 0.985;
    if (alpha > 0.02 || drag) { window.requestAnimationFrame(tick); } else { running = false; }
  }
  function kick() { if (!running) { running = true; window.requestAnimationFrame(tick); } }
  draw(); kick();
  if (info) { info.textContent = nodes.length + " · " + links.length; }
}());
