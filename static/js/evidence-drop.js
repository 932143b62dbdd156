/* Evidence from the step itself: drop a file onto a step, or paste a screenshot while
   in it, and it is attached to that step.

   Without this script each step's file input and its "Attach to step N" button do the
   same with a plain form post. With it, a dropped or pasted file is put into that input
   and the form is submitted through that button, so the post is the very one the
   button makes (what is typed on the page goes with it and is kept). A paste holding
   no file (plain text into a text box) is left alone. */
(function () {
  "use strict";

  function attach(zone, file) {
    var input = zone.querySelector("input[type=file]");
    var button = zone.querySelector("button[name=upload_step]");
    if (!input || !button || !file) {
      return;
    }
    var step = button.value;
    if (!file.name || file.name === "image.png") {
      // A pasted screenshot comes unnamed (or as "image.png"): say which step it shows.
      var kind = file.type === "image/jpeg" ? "jpg" : "png";
      file = new File([file], "screenshot-step-" + step + "." + kind, { type: file.type });
    }
    var files = new DataTransfer();
    files.items.add(file);
    input.files = files.files;
    zone.classList.add("evidence-sending");
    button.form.requestSubmit(button);
  }

  function hasFiles(transfer) {
    return !!transfer && Array.prototype.indexOf.call(transfer.types || [], "Files") !== -1;
  }

  function firstFile(transfer) {
    if (!transfer) {
      return null;
    }
    if (transfer.files && transfer.files.length) {
      return transfer.files[0];
    }
    var items = transfer.items || [];
    for (var i = 0; i < items.length; i += 1) {
      if (items[i].kind === "file") {
        return items[i].getAsFile();
      }
    }
    return null;
  }

  function enhance(zone) {
    var step = zone.closest(".step") || zone;
    var hint = zone.querySelector("[data-drop-hint]");
    if (hint && !hint.dataset.enhanced) {
      hint.dataset.enhanced = "1";
      hint.textContent += " Or drop a file onto this step, or paste a screenshot while in it.";
    }
    if (step.dataset.evidenceDrop === "on") {
      return;
    }
    step.dataset.evidenceDrop = "on";
    step.addEventListener("dragover", function (event) {
      if (hasFiles(event.dataTransfer)) {
        event.preventDefault();
        step.classList.add("drop-target");
      }
    });
    step.addEventListener("dragleave", function (event) {
      if (!step.contains(event.relatedTarget)) {
        step.classList.remove("drop-target");
      }
    });
    step.addEventListener("drop", function (event) {
      var file = firstFile(event.dataTransfer);
      step.classList.remove("drop-target");
      if (file) {
        event.preventDefault();
        attach(step.querySelector("[data-evidence-drop]"), file);
      }
    });
    step.addEventListener("paste", function (event) {
      var file = firstFile(event.clipboardData);
      if (file) {
        event.preventDefault();
        attach(step.querySelector("[data-evidence-drop]"), file);
      }
    });
  }

  function enhanceAll(root) {
    var zones = (root || document).querySelectorAll("[data-evidence-drop]");
    Array.prototype.forEach.call(zones, enhance);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhanceAll(document);
  });
  // A step swapped in by htmx (after a mark) is a new element: enhance it too.
  document.addEventListener("htmx:load", function (event) {
    enhanceAll(event.target && event.target.querySelectorAll ? event.target : document);
  });
})();
