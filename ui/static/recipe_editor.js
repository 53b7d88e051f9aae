/* The recipe editor: unsaved-change warnings, the data pill picker and focus after htmx swaps.
 *
 * Loaded from the editor page (no inline script). With hx-boost the page can be entered several times in
 * one document, so listeners are added once, on the document, and do nothing off the editor.
 */
(function () {
  "use strict";
  if (window.switchboardRecipeEditor) {
    return;
  }
  window.switchboardRecipeEditor = true;

  var LEAVE = "You have unsaved changes in the recipe editor. Leave without saving them?";
  var dirty = new Set(); // ids of editor forms with unsaved changes
  var stash = {}; // dirty forms kept across a workspace swap

  function editorForm(element) {
    return element && element.closest ? element.closest("form[data-editor-form]") : null;
  }

  function markDirty(form) {
    dirty.add(form.id);
    form.setAttribute("data-dirty", "true");
  }

  function markSaved(id) {
    dirty.delete(id);
    var form = document.getElementById(id);
    if (form) {
      form.removeAttribute("data-dirty");
    }
  }

  function onEditor() {
    return document.getElementById("workspace") !== null;
  }

  function edited(event) {
    var form = editorForm(event.target);
    if (form) {
      markDirty(form);
    }
  }
  document.addEventListener("input", edited);
  document.addEventListener("change", edited);
  // Add parameter, Remove condition…: the form changes but is not saved.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[name=op]") : null;
    if (button && button.value !== "save" && editorForm(button)) {
      markDirty(editorForm(button));
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (onEditor() && dirty.size > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // A boosted link or form replaces the page without unloading it: ask before losing changes.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!event.detail.boosted || !onEditor() || dirty.size === 0) {
      return;
    }
    if (window.confirm(LEAVE)) {
      dirty.clear();
    } else {
      event.preventDefault();
    }
  });

  // The server names the form whose save succeeded (HX-Trigger: recipeSaved).
  document.addEventListener("recipeSaved", function (event) {
    if (event.detail && event.detail.form) {
      markSaved(event.detail.form);
    }
  });

  // Saving one form replaces the whole workspace: other forms with unsaved changes are kept as they are.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    stash = {};
    if (!target || target.id !== "workspace") {
      return;
    }
    var requesting = editorForm(event.detail.requestConfig && event.detail.requestConfig.elt);
    dirty.forEach(function (id) {
      var form = document.getElementById(id);
      if (form && target.contains(form) && form !== requesting) {
        stash[id] = form;
      }
    });
  });

  document.addEventListener("htmx:afterSwap", function () {
    Object.keys(stash).forEach(function (id) {
      var fresh = document.getElementById(id);
      if (fresh && fresh !== stash[id]) {
        fresh.replaceWith(stash[id]);
        if (window.htmx) {
          window.htmx.process(stash[id]);
        }
      }
    });
    stash = {};
    dirty.forEach(function (id) {
      var form = document.getElementById(id);
      if (form) {
        form.setAttribute("data-dirty", "true");
      }
    });
  });

  function moveFocus() {
    var marked = document.querySelectorAll("[data-focus]");
    var id = "";
    marked.forEach(function (element) {
      if (element.getAttribute("data-focus")) {
        id = element.getAttribute("data-focus");
      }
      element.removeAttribute("data-focus");
    });
    var element = id ? document.getElementById(id) : null;
    if (element) {
      element.focus();
    }
  }

  document.addEventListener("htmx:afterSettle", function () {
    if (!onEditor()) {
      dirty.clear();
      return;
    }
    moveFocus();
  });

  // The pill picker: a button inserts {{ expression }} at the cursor of its field.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.pill[data-pill]") : null;
    if (!button) {
      return;
    }
    var field = document.getElementById(button.getAttribute("data-target"));
    if (!field) {
      return;
    }
    var text = "{{ " + button.getAttribute("data-pill") + " }}";
    var start = typeof field.selectionStart === "number" ? field.selectionStart : field.value.length;
    var end = typeof field.selectionEnd === "number" ? field.selectionEnd : start;
    field.setRangeText(text, start, end, "end");
    field.dispatchEvent(new Event("input", { bubbles: true }));
    var details = button.closest("details");
    if (details) {
      details.open = false;
    }
    field.focus();
  });

  // Escape closes an open pill list and returns to its button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.closest) {
      return;
    }
    var details = event.target.closest("details.pill-picker[open]");
    if (details) {
      details.open = false;
      details.querySelector("summary").focus();
      event.preventDefault();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", moveFocus);
  } else {
    moveFocus();
  }
})();
