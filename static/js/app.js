// Every page: htmx sends the CSRF token in a header, answers with an inline message
// (403/409/422/501 from a refused action) are swapped in like any other, and other
// errors show a short toast instead of failing silently.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="csrf-token"]');

  document.addEventListener("htmx:configRequest", function (event) {
    if (token) event.detail.headers["X-CSRFToken"] = token.content;
  });

  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "403|409|422|501", swap: true, error: false },
    { code: "[45]..", swap: false, error: true },
    { code: "...", swap: false }
  ];

  var toastTimer = null;
  function toast(text) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, 6000);
  }
  window.passlineToast = toast;

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400) toast("This form's security token is missing or out of date, so nothing was changed. Reload the page and submit the form again.");
    else if (status === 401) toast("Your session has ended. Log in again.");
    else toast("The server answered " + status + ". Nothing was changed.");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("No connection to the server. Nothing was changed.");
  });
})();
