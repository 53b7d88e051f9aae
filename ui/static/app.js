/* Behaviour every console page shares, wired by data attributes (pages carry no inline script):
 *
 *   <button data-copy="field-id">           copies the field's value and says so
 *   <button data-open-dialog="dialog-id">   opens a dialog
 *   <button data-close-dialog>              closes the dialog it is in
 *
 * Forms ask before submitting with htmx's hx-confirm. Listeners sit on the document, so they also serve
 * content swapped in by htmx.
 */
(function () {
  "use strict";
  if (window.switchboardApp) {
    return;
  }
  window.switchboardApp = true;

  function copy(button, field) {
    field.select();
    var copied = navigator.clipboard
      ? navigator.clipboard.writeText(field.value)
      : Promise.resolve(document.execCommand("copy"));
    copied.then(
      function () {
        button.textContent = "Copied";
      },
      function () {
        button.textContent = "Select and copy";
      }
    );
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button") : null;
    if (!button) {
      return;
    }
    if (button.hasAttribute("data-copy")) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (field) {
        copy(button, field);
      }
    } else if (button.hasAttribute("data-open-dialog")) {
      var dialog = document.getElementById(button.getAttribute("data-open-dialog"));
      if (dialog) {
        dialog.showModal();
      }
    } else if (button.hasAttribute("data-close-dialog")) {
      var open = button.closest("dialog");
      if (open) {
        open.close();
      }
    }
  });
})();
