/* Move the steps of a case up and down in the admin's case editor.

   Without this script the "Order" numbers are typed by hand, and the server numbers the
   steps 1, 2, 3... in that order on save. With it, each step gets "Move up" and "Move
   down" buttons that move its row and renumber every row, so the numbers always read in
   the order shown; a new step gets the next number. A number typed by hand moves its
   row there when the field is left, as the server would order it (ahead of the step
   that had the number); an empty one goes last. */
(function () {
  "use strict";

  var GROUP = "steps-group";

  function rows(group) {
    return Array.prototype.slice.call(
      group.querySelectorAll("tbody > tr.form-row:not(.empty-form)")
    );
  }

  function orderInput(row) {
    return row.querySelector("td.field-position input");
  }

  function announce(group, text) {
    var region = group.querySelector(".step-moves-status");
    if (region) {
      region.textContent = text;
    }
  }

  function renumber(group) {
    var all = rows(group);
    all.forEach(function (row, index) {
      var number = index + 1;
      var input = orderInput(row);
      if (input) {
        input.value = number;
      }
      row.querySelectorAll("button[data-move]").forEach(function (button) {
        var direction = button.getAttribute("data-move");
        button.setAttribute("aria-label", "Move step " + number + " " + direction);
        button.disabled =
          (direction === "up" && index === 0) ||
          (direction === "down" && index === all.length - 1);
      });
    });
  }

  function carrying(row) {
    // A row's errors are drawn in the row before it: they move along with it.
    var errors = row.previousElementSibling;
    return errors && errors.classList.contains("row-form-errors") ? errors : null;
  }

  function sortRows(group, preferred) {
    var all = rows(group);
    if (!all.length) {
      return;
    }
    var LAST = 10000;
    var ranked = all.map(function (row, index) {
      var input = orderInput(row);
      var number = input ? parseInt(input.value, 10) : NaN;
      return {
        row: row,
        key: [isNaN(number) ? LAST : number, row === preferred ? 0 : 1, index],
      };
    });
    ranked.sort(function (one, other) {
      for (var i = 0; i < 3; i++) {
        if (one.key[i] !== other.key[i]) {
          return one.key[i] - other.key[i];
        }
      }
      return 0;
    });
    var parent = all[0].parentNode;
    var anchor = all[all.length - 1].nextSibling;
    ranked.forEach(function (item) {
      var errors = carrying(item.row);
      if (errors) {
        parent.insertBefore(errors, anchor);
      }
      parent.insertBefore(item.row, anchor);
    });
    renumber(group);
  }

  function move(group, row, direction) {
    var all = rows(group);
    var index = all.indexOf(row);
    var target = direction === "up" ? all[index - 1] : all[index + 1];
    if (!target) {
      return;
    }
    var carry = carrying(row);
    var parent = row.parentNode;
    if (direction === "up") {
      var before = target.previousElementSibling;
      var anchor = before && before.classList.contains("row-form-errors") ? before : target;
      if (carry) {
        parent.insertBefore(carry, anchor);
      }
      parent.insertBefore(row, anchor);
    } else {
      parent.insertBefore(row, target.nextSibling);
      if (carry) {
        parent.insertBefore(carry, row);
      }
    }
    renumber(group);
    announce(group, "Step moved to position " + (rows(group).indexOf(row) + 1) + ".");
  }

  function addButtons(group, row) {
    var cell = row.querySelector("td.field-position");
    if (!cell || cell.querySelector(".step-moves")) {
      return;
    }
    var box = document.createElement("div");
    box.className = "step-moves";
    [
      ["up", "\u2191"],
      ["down", "\u2193"],
    ].forEach(function (pair) {
      var button = document.createElement("button");
      button.type = "button";
      button.setAttribute("data-move", pair[0]);
      button.title = "Move " + pair[0];
      button.textContent = pair[1];
      button.addEventListener("click", function () {
        move(group, row, pair[0]);
        button.focus();
      });
      box.appendChild(button);
    });
    cell.appendChild(box);
    var input = orderInput(row);
    if (input) {
      input.addEventListener("change", function () {
        sortRows(group, row);
        announce(group, "Step moved to position " + (rows(group).indexOf(row) + 1) + ".");
      });
    }
  }

  function setUp() {
    var group = document.getElementById(GROUP);
    if (!group) {
      return;
    }
    var status = document.createElement("p");
    status.className = "step-moves-status visually-hidden";
    status.setAttribute("role", "status");
    group.appendChild(status);
    rows(group).forEach(function (row) {
      addButtons(group, row);
    });
    // Shown again after a refused save: in the order the numbers posted say.
    sortRows(group, null);
    document.addEventListener("formset:added", function (event) {
      if (event.detail && event.detail.formsetName === "steps") {
        addButtons(group, event.target);
        renumber(group);
      }
    });
    document.addEventListener("formset:removed", function (event) {
      if (event.detail && event.detail.formsetName === "steps") {
        renumber(group);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
