/* Itsmo: the few behaviours that need a script. Everything works without it. */
(function () {
  "use strict";

  function setUp(root) {
    // Narrow screens: the navigation folds behind the "Menu" button.
    var button = document.querySelector(".topbar__menu-button");
    var nav = document.getElementById("site-nav");
    if (button && nav && !button.dataset.ready) {
      button.dataset.ready = "1";
      button.hidden = false;
      document.documentElement.classList.add("has-js");
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") === "true";
        button.setAttribute("aria-expanded", String(!open));
        nav.classList.toggle("is-open", !open);
      });
    }
    // A secret shown once: select it all on focus so it is easy to copy.
    root.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
      input.focus();
    });
  }

  // The user menu closes with Escape and when clicking elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });

  // A partial update that changed the record's version (linking an incident to a problem,
  // say) announces the new one (the HX-Trigger event "itsmo:version", sent with django-htmx's trigger_client_event):
  // the page's other forms then carry it, instead of failing as a stale edit.
  document.body.addEventListener("itsmo:version", function (event) {
    document.querySelectorAll('form input[name="version"]').forEach(function (input) {
      input.value = String(event.detail.value);
    });
  });

  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:load", function (event) { setUp(event.detail.elt); });
})();
