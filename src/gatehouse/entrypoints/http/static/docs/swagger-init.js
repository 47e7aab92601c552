// Starts Swagger UI on /docs. A file of its own, not an inline script, so the page's
// Content-Security-Policy can allow scripts from this origin alone.
"use strict";

(function () {
  const container = document.getElementById("swagger-container");
  const ui = SwaggerUIBundle({
    url: container.dataset.spec,
    domNode: container,
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  });
  ui.initOAuth({});
})();
