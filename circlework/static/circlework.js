/* Circlework's one small script: enhancements only, every page works without it. */
(function () {
  "use strict";

  /* A field with a character limit: the server's note "Up to N characters" (core/form_renderer.py)
     becomes a counter. It updates as one types; screen readers hear it when typing pauses. */
  var timers = new WeakMap();

  function noteFor(field) {
    return field.id ? document.getElementById(field.id + "_limit") : null;
  }

  function update(field, announce) {
    var note = noteFor(field);
    if (!note || !note.dataset.limit) return;
    var limit = parseInt(note.dataset.limit, 10);
    var used = field.value.length;
    var left = limit - used;
    /* The words come translated from the server (data-count, data-full, data-left). */
    var fill = function (words) {
      return words.replace("%(used)s", used).replace("%(limit)s", limit).replace("%(left)s", left);
    };
    var text = fill(note.dataset.count || "%(used)s / %(limit)s");
    if (left <= 0 && note.dataset.full) text += " " + fill(note.dataset.full);
    else if (left <= Math.max(10, limit / 10) && note.dataset.left) text += " " + fill(note.dataset.left);
    note.classList.toggle("over", left <= 0);
    if (!announce) {
      note.textContent = text;
      return;
    }
    note.setAttribute("aria-live", "polite");
    clearTimeout(timers.get(note));
    note.textContent = text;
    /* Re-set after a pause, so a polite live region is read once, not at every key. */
    note.setAttribute("aria-busy", "true");
    timers.set(note, setTimeout(function () { note.removeAttribute("aria-busy"); }, 700));
  }

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement) update(field, true);
  });

  /* On a phone a wide table scrolls sideways within itself; one that does can take the focus,
     so the arrow keys scroll it too. */
  function markScrollingTables(root) {
    root.querySelectorAll("table").forEach(function (table) {
      var scrolls = table.scrollWidth > table.clientWidth + 1;
      if (scrolls && !table.hasAttribute("tabindex")) table.setAttribute("tabindex", "0");
      else if (!scrolls && table.getAttribute("tabindex") === "0") table.removeAttribute("tabindex");
    });
  }

  var resizing;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { markScrollingTables(document); }, 200);
  });

  function start(root) {
    root.querySelectorAll(".char-limit[data-limit]").forEach(function (note) {
      var field = document.getElementById(note.id.replace(/_limit$/, ""));
      if (field && field.value) update(field, false);
    });
    markScrollingTables(root);
    /* The circle's tabs scroll on their own on a phone: bring the current one into view. */
    root.querySelectorAll(".tabs [aria-current='page']").forEach(function (tab) {
      var row = tab.closest("ul");
      if (row && row.scrollWidth > row.clientWidth) {
        var tabBox = tab.getBoundingClientRect(), rowBox = row.getBoundingClientRect();
        row.scrollLeft += tabBox.left - rowBox.left - (rowBox.width - tabBox.width) / 2;
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { start(document); });
  } else {
    start(document);
  }
  document.addEventListener("htmx:afterSettle", function (event) { start(event.target); });
})();
