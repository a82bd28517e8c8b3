// The template editor: after each preview, load the HTML email into its sandboxed frame by posting the
// editor's form there (the "Show the HTML email" button does the same without this script).
(function () {
  "use strict";
  function showHtml() {
    var form = document.getElementById("editor");
    var button = document.getElementById("show-html");
    if (form && button && form.requestSubmit) {
      form.requestSubmit(button);
    }
  }
  document.addEventListener("DOMContentLoaded", showHtml);
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "preview") {
      showHtml();
    }
  });
})();
