// Vigil web app: the only script besides htmx. It sends the session's CSRF
// token (from <meta name="csrf-token">) with every state-changing htmx
// request, as the X-CSRF-Token header the server checks.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (evt) {
    var verb = (evt.detail.verb || "get").toLowerCase();
    if (verb === "get") {
      return;
    }
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      evt.detail.headers["X-CSRF-Token"] = meta.content;
    }
  });
})();
