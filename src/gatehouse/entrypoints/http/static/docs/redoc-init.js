// Starts ReDoc on /redoc. A file of its own, not an inline script, so the page's
// Content-Security-Policy can allow scripts from this origin alone.
"use strict";

(function () {
  const container = document.getElementById("redoc-container");
  Redoc.init(container.dataset.spec, {}, container);
})();
