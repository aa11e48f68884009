// Markdown editor with a live preview, for every textarea[data-preview-url] (see
// templates/curriculum/authoring/_editor.html). As the author types, the text is sent
// (debounced) to data-preview-url with the CSRF token of data-csrf in the X-CSRF-Token header;
// the answer, an HTML fragment the server renders and sanitises as it does for trainees, goes
// into the element named by data-preview-target. On a phone a button switches between the text
// and the preview; on a wide screen both are side by side (parcours.css, .editor). The text is
// never touched: a failed preview only says so. Leaving the page with unsaved changes asks
// first, unless the editor's own form is being sent.
(function () {
  "use strict";
  if (!window.fetch || !window.URLSearchParams) { return; }
  var DELAY_MS = 300;
  var editors = [];
  var submitting = false;

  // The short French reason of a failed answer: a plain-text body as it is, the message of
  // one of the site's error pages, or one by status.
  function reasonOf(res, text) {
    var type = res.headers.get("Content-Type") || "";
    if (type.indexOf("text/plain") === 0 && text.trim()) { return text.trim().slice(0, 200); }
    if (type.indexOf("text/html") === 0 && window.DOMParser) {
      var doc = new DOMParser().parseFromString(text, "text/html");
      var lead = doc.querySelector(".error-page .lead");
      if (lead && lead.textContent.trim()) { return lead.textContent.trim().slice(0, 200); }
    }
    if (res.status === 403) { return "accès refusé"; }
    if (res.status === 413) { return "texte trop long"; }
    if (res.status >= 500) { return "erreur du serveur, réessayez dans un instant"; }
    return "réponse inattendue du serveur (code " + res.status + ")";
  }

  function Failure(message) { this.message = message; }

  function setup(area) {
    if (area.getAttribute("data-editor-ready")) { return; }
    var target = document.getElementById(area.getAttribute("data-preview-target") || "");
    if (!target) { return; }
    area.setAttribute("data-editor-ready", "1");
    var url = area.getAttribute("data-preview-url");
    var box = area.closest ? area.closest("[data-editor]") : null;
    var pane = box ? box.querySelector("[data-editor-preview]") : null;
    var toggle = box ? box.querySelector("[data-editor-toggle]") : null;
    var field = area.form ? area.form.querySelector("input[name=csrf_token]") : null;
    var token = area.getAttribute("data-csrf") || (field ? field.value : "");
    var editor = { area: area, saved: area.value };
    editors.push(editor);
    var timer = null;
    var sent = 0;
    var shown = 0;

    function show(seq, fill) {
      if (seq < shown) { return; } // an older answer that came back late
      shown = seq;
      fill();
      if (seq === sent) { target.removeAttribute("aria-busy"); }
    }

    function render() {
      timer = null;
      sent += 1;
      var seq = sent;
      var body = new URLSearchParams();
      body.set("text", area.value);
      target.setAttribute("aria-busy", "true");
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        redirect: "manual",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
          "X-CSRF-Token": token
        },
        body: body.toString()
      }).then(function (res) {
        if (res.type === "opaqueredirect" || res.status === 0) {
          throw new Failure("la session a pris fin ; reconnectez-vous dans un autre onglet, " +
            "votre texte reste ici");
        }
        return res.text().then(function (text) {
          if (!res.ok) { throw new Failure(reasonOf(res, text)); }
          return text;
        });
      }).then(function (html) {
        show(seq, function () { target.innerHTML = html; });
      }).catch(function (e) {
        var reason = e instanceof Failure ? e.message : "le serveur ne répond pas (connexion ?)";
        show(seq, function () {
          var p = document.createElement("p");
          p.className = "alert";
          p.textContent = "Aperçu indisponible : " + reason.replace(/[.\s]+$/, "") + ".";
          target.textContent = "";
          target.appendChild(p);
        });
      });
    }

    function schedule() {
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(render, DELAY_MS);
    }

    area.addEventListener("input", schedule);
    if (pane) { pane.hidden = false; }
    if (toggle && box) {
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        var preview = box.getAttribute("data-mode") !== "preview";
        box.setAttribute("data-mode", preview ? "preview" : "source");
        toggle.textContent = preview ? "Modifier" : "Aperçu";
        if (preview && timer) {
          window.clearTimeout(timer);
          render();
        }
      });
    }
    if (area.form) {
      area.form.addEventListener("submit", function (e) {
        if (!e.defaultPrevented) { submitting = true; }
      });
    }
    if (area.value.trim()) { render(); }
  }

  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-preview-url]"), setup);
  if (!editors.length) { return; }

  window.addEventListener("beforeunload", function (e) {
    if (submitting) { return undefined; }
    var changed = editors.some(function (ed) { return ed.area.value !== ed.saved; });
    if (!changed) { return undefined; }
    e.preventDefault();
    e.returnValue = "";
    return "";
  });
  // Back to a page kept in the browser's cache after sending: its text may be edited again.
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) { submitting = false; }
  });
}());
