/* Incidents: live SLA countdowns and the agent's keyboard shortcuts. No library. */
(function () {
  "use strict";

  var labels = document.querySelector('meta[name="itsmo-countdown"]');
  function label(name, fallback) {
    return (labels && labels.dataset[name]) || fallback;
  }

  function duration(seconds) {
    var minutes = Math.floor(seconds / 60);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    var d = label("day", "d"), h = label("hour", "h"), m = label("minute", "min");
    if (days) return days + " " + d + " " + hours + " " + h;
    if (hours) return hours + " " + h + " " + (mins < 10 ? "0" : "") + mins + " " + m;
    return Math.max(mins, seconds > 0 ? 1 : 0) + " " + m;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) return;
      var left = Math.round((due - now) / 1000);
      var text = left >= 0
        ? label("in", "in %s").replace("%s", duration(left))
        : label("overdue", "overdue by %s").replace("%s", duration(-left));
      el.textContent = text;
      el.classList.toggle("is-overdue", left < 0);
      el.classList.toggle("is-soon", left >= 0 && left < 3600);
    });
  }
  tick();
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSwap", tick);

  // ---- keyboard shortcuts -------------------------------------------------------------
  var pendingG = false;
  var dialog = document.getElementById("shortcuts");

  function typing(event) {
    var t = event.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-keyboard-list] tbody tr"));
  }
  function move(step) {
    var list = rows();
    if (!list.length) return;
    var current = list.findIndex(function (r) { return r.classList.contains("is-selected"); });
    var next = Math.min(list.length - 1, Math.max(0, current + step));
    if (current >= 0) list[current].classList.remove("is-selected");
    list[next].classList.add("is-selected");
    list[next].scrollIntoView({ block: "nearest" });
  }
  function selected() {
    return document.querySelector("[data-keyboard-list] tbody tr.is-selected");
  }
  function focus(selector, openDetails) {
    var el = document.querySelector(selector);
    if (!el) return;
    if (openDetails) { var d = el.closest("details"); if (d) d.open = true; }
    el.scrollIntoView({ block: "center" });
    el.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var key = event.key;
    if (pendingG) {
      pendingG = false;
      var base = "/incidents/";
      if (key === "q") { window.location.href = base + "queues/"; }
      else if (key === "a") { window.location.href = base + "all/"; }
      else if (key === "n") { window.location.href = base + "new/"; }
      else return;
      event.preventDefault();
      return;
    }
    var handled = true;
    if (key === "g") { pendingG = true; setTimeout(function () { pendingG = false; }, 1500); }
    else if (key === "?") { if (dialog && !dialog.open) dialog.showModal(); }
    else if (key === "/") { focus("[data-filter-focus]"); }
    else if (key === "j") { move(1); }
    else if (key === "k") { move(-1); }
    else if (key === "o" || key === "Enter") {
      var row = selected();
      if (row) window.location.href = row.dataset.href; else handled = false;
    }
    else if (key === "x") {
      var r = selected();
      var box = r && r.querySelector("input[type=checkbox]");
      if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change", { bubbles: true })); }
    }
    else if (key === "c") { focus("[data-comment-box]"); }
    else if (key === "a") { focus("#assign select"); }
    else if (key === "r") { focus("#transition-resolved select", true); }
    else handled = false;
    if (handled) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-shortcuts-open]");
    if (opener && dialog) dialog.showModal();
  });

  // ---- bulk selection ----------------------------------------------------------------
  function updateCount() {
    var count = document.querySelectorAll("#bulk-form input[name=numbers]:checked").length;
    document.querySelectorAll("[data-bulk-count]").forEach(function (el) { el.textContent = count; });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-check-all]")) {
      document.querySelectorAll("#bulk-form input[name=numbers]").forEach(function (box) {
        box.checked = event.target.checked;
      });
    }
    if (event.target.closest("#bulk-form")) updateCount();
  });
})();
