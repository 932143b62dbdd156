/* Names the admin's autocomplete boxes (select2) after the field they stand for, so a
   screen reader says what each is (WCAG 4.1.2): select2 draws a combobox and a search
   box without a name, and a list of chips with the search box inside it. Runs on every
   box select2 draws, now or later (an inline row added, a search box redrawn). */
(function () {
  "use strict";
  function fieldName(select) {
    var label = select.id && document.querySelector('label[for="' + select.id + '"]');
    return (label ? label.textContent : select.name || "").replace(/:\s*$/, "").trim();
  }
  function name(select) {
    var box = select.nextElementSibling;
    if (!box || !box.classList.contains("select2")) return;
    var text = fieldName(select);
    box.querySelectorAll(".select2-selection").forEach(function (el) {
      el.setAttribute("aria-label", text);
    });
    box.querySelectorAll(".select2-search__field").forEach(function (el) {
      el.setAttribute("aria-label", "Search " + text);
    });
    box.querySelectorAll(".select2-selection__rendered").forEach(function (el) {
      if (el.tagName === "UL") el.setAttribute("role", "presentation");
      else el.setAttribute("aria-label", text);
    });
  }
  function nameAll() {
    document.querySelectorAll("select.admin-autocomplete").forEach(name);
  }
  document.addEventListener("DOMContentLoaded", function () {
    nameAll();
    new MutationObserver(function (changes) {
      var drawn = changes.some(function (change) { return change.addedNodes.length; });
      if (drawn) nameAll();
    }).observe(document.body, { childList: true, subtree: true });
  });
  window.addEventListener("load", nameAll);
})();
