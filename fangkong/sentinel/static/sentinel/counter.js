// The counter page: keyboard-wedge scanners type into the focused field and press Enter.
// On a field with data-next (ID number, product barcode) Enter moves on instead of
// submitting; anywhere else Enter submits the form (htmx posts it: no page reload). Each
// entry gets a client id, so a double submit or a retried request is stored once. After
// htmx swaps the form, focus returns to the ID number for the next buyer.
(function () {
  "use strict";

  function newId() {
    if (window.crypto && window.crypto.randomUUID) {
      return "counter-" + window.crypto.randomUUID();
    }
    return "counter-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function arm(root) {
    var form = root.querySelector("form[data-counter]");
    if (!form || form.dataset.armed) {
      return;
    }
    form.dataset.armed = "1";
    var id = form.querySelector("[data-client-id]");
    if (id && !id.value) {
      id.value = newId();
    }
    form.addEventListener("keydown", function (event) {
      var field = event.target;
      if (event.key !== "Enter" || !field || !field.dataset || !field.dataset.next) {
        return;
      }
      var next = form.querySelector("[name='" + field.dataset.next + "']");
      if (next) {
        event.preventDefault();
        next.focus();
        if (next.select) {
          next.select();
        }
      }
    });
    var invalid = form.querySelector("[aria-invalid='true']");
    var first = invalid || form.querySelector("[autofocus]");
    if (first) {
      first.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    arm(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    arm(event.detail && event.detail.target ? event.detail.target.parentNode || document : document);
  });
})();
