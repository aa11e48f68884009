// Sends a heartbeat while a study page is open, visible and used; the server decides what
// counts. Failures are retried at the next beat; nothing is ever sent for the gap.
(function () {
  "use strict";
  var page = document.querySelector("[data-study-page]");
  if (!page || !window.fetch) { return; }
  var every = parseInt(page.getAttribute("data-beat-ms"), 10) || 30000;
  var view = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() :
    String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  var seq = 0;
  var lastUse = Date.now();
  var inFlight = false;
  ["keydown", "click", "scroll", "touchstart", "pointermove", "wheel"].forEach(function (ev) {
    window.addEventListener(ev, function () { lastUse = Date.now(); }, { passive: true });
  });
  // A package plays in a frame of another origin: its use is told by message, and only
  // messages from that origin count.
  var packageOrigin = page.getAttribute("data-package-origin");
  if (packageOrigin) {
    window.addEventListener("message", function (e) {
      if (e.origin !== packageOrigin || !e.data || e.data.type !== "parcours-package") { return; }
      lastUse = Date.now();
      if (e.data.event === "terminated") {
        // The last commit is on its way: show the new state and the next part once it landed.
        window.setTimeout(function () { window.location.href = window.location.pathname; }, 1500);
      }
    });
  }
  var body = { page: page.getAttribute("data-study-page"), view: view };
  var lesson = page.getAttribute("data-lesson");
  if (lesson) { body.lesson_id = parseInt(lesson, 10); }
  var moduleId = page.getAttribute("data-module-id");
  if (moduleId) { body.module_id = parseInt(moduleId, 10); }
  function beat() {
    if (inFlight || document.visibilityState !== "visible") { return; }
    if (Date.now() - lastUse > 60000) { return; }
    inFlight = true;
    seq += 1;
    body.seq = seq;
    fetch("/api/v1/study/heartbeats", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": page.getAttribute("data-csrf") },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.ok ? res.json() : null;
    }).then(function (data) {
      var out = document.getElementById("study-time");
      if (data && out && typeof data.session_seconds === "number") {
        var s = data.session_seconds;
        out.textContent = (s < 60 ? s + " s" : Math.floor(s / 60) + " min") + " d'étude sur cette page";
      }
    }).catch(function () { /* offline: the next beat tries again */ })
      .then(function () { inFlight = false; });
  }
  window.setInterval(beat, every);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { lastUse = Date.now(); }
  });
}());
