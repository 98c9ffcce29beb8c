// The sampler's phone page. Every scan gets an id made here, is written to localStorage at
// once, and leaves the queue only when the server has answered for it. A batch whose answer
// is lost is sent again with the same ids; the server answers "duplicate" for the scans it
// already has, so nothing is lost and nothing is counted twice.
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  if (!form) { return; }
  var endpoint = form.dataset.endpoint;
  var key = "fangkong.mt.queue." + form.dataset.round;
  var sentKey = "fangkong.mt.sent." + form.dataset.round;
  var BATCH = 500;
  var sending = false;
  var retryMs = 2000;

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }
  function uuid() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  var labelsNode = document.getElementById("outcome-labels");
  var labels = labelsNode ? JSON.parse(labelsNode.textContent || "{}") : {};
  function load(k) { try { return JSON.parse(localStorage.getItem(k) || "[]"); } catch (e) { return []; } }
  function save(k, v) { localStorage.setItem(k, JSON.stringify(v)); }
  function render() {
    document.getElementById("pending-count").textContent = String(load(key).length);
    var sent = load(sentKey);
    document.getElementById("sent-count").textContent = String(sent.length);
    var log = document.getElementById("log");
    log.textContent = "";
    sent.slice(-10).reverse().forEach(function (s) {
      var li = document.createElement("li");
      li.textContent = s.barcode + " · " + (labels[s.outcome] || s.outcome);
      li.dataset.outcome = s.outcome;
      if (s.outcome !== "accepted" && s.outcome !== "duplicate") { li.className = "flag"; }
      log.appendChild(li);
    });
    var net = document.getElementById("net");
    net.textContent = navigator.onLine ? net.dataset.online : net.dataset.offline;
  }

  function send() {
    var queue = load(key);
    if (sending || queue.length === 0 || !navigator.onLine) { render(); return; }
    sending = true;
    var batch = queue.slice(0, BATCH);
    fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ batch_id: uuid(), scans: batch })
    }).then(function (resp) {
      if (resp.status === 429 || resp.status === 409 || resp.status >= 500) {
        var after = parseInt(resp.headers.get("Retry-After") || "2", 10);
        throw new Error("retry:" + after);
      }
      if (!resp.ok) { throw new Error("http:" + resp.status); }
      return resp.json();
    }).then(function (body) {
      var answered = {};
      body.answers.forEach(function (a) { answered[a.client_id] = a; });
      var sent = load(sentKey);
      batch.forEach(function (s) {
        var a = answered[s.client_id];
        if (a) { sent.push({ client_id: s.client_id, barcode: s.barcode, outcome: a.outcome }); }
      });
      save(sentKey, sent.slice(-2000));
      // Re-read the queue: scans recorded while this batch was out stay in it.
      save(key, load(key).filter(function (s) { return !answered[s.client_id]; }));
      retryMs = 2000;
      sending = false;
      render();
      if (load(key).length) { send(); }
    }).catch(function (err) {
      sending = false;
      var m = /retry:(\d+)/.exec(String(err && err.message));
      retryMs = m ? Math.max(1000, parseInt(m[1], 10) * 1000) : Math.min(retryMs * 2, 30000);
      render();
      window.setTimeout(send, retryMs);
    });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var barcode = document.getElementById("barcode").value.trim();
    var doc = document.getElementById("doc").value.trim();
    if (!barcode || !doc) { return; }
    var site = document.getElementById("site").value;
    var close = document.getElementById("close-tube");
    var queue = load(key);
    queue.push({
      client_id: uuid(),
      barcode: barcode,
      doc_number: doc,
      site_id: site ? parseInt(site, 10) : null,
      sampler: document.getElementById("sampler-name").value.trim(),
      sampled_at: new Date().toISOString(),
      close_tube: close.checked
    });
    save(key, queue);
    document.getElementById("doc").value = "";
    if (close.checked) { document.getElementById("barcode").value = ""; close.checked = false; }
    document.getElementById("doc").focus();
    render();
    send();
  });
  document.getElementById("send-now").addEventListener("click", send);
  window.addEventListener("online", send);
  window.addEventListener("offline", render);
  window.setInterval(send, 5000);
  render();
  send();
})();
