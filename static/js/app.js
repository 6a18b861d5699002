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

  // A "raw" link of the webhook log opens the body below its row; clicked again, it closes
  // it (captured before htmx's own listener, which would only load it again).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.raw-toggle");
    var shown = link && document.querySelector(link.getAttribute("hx-target"));
    if (!shown || !shown.firstElementChild) return;
    event.preventDefault();
    event.stopPropagation();
    shown.replaceChildren();
  }, true);

  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.passlineHandled) return; // the page said it in place (board.js: no such order)
    var status = event.detail.xhr.status;
    if (status === 400) toast("This form's security token is missing or out of date, so nothing was changed. Reload the page and submit the form again.");
    else if (status === 401) toast("Your session has ended. Log in again.");
    else toast("The server answered " + status + ". Nothing was changed.");
  });
  // After a swap, the focus goes where the answer says (data-focus: a message next to where
  // the user acted, or the button they came from) or to the first refused field, scrolled into
  // view; never left on <body> when the clicked button was replaced.
  document.addEventListener("htmx:afterSettle", function () {
    var lost = !document.activeElement || document.activeElement === document.body;
    var el = document.querySelector("[data-focus]") || (lost && document.querySelector('main [aria-invalid="true"]'));
    if (!el) return;
    el.removeAttribute("data-focus");
    el.scrollIntoView({ block: "center" });
    el.focus({ preventScroll: true });
  });

  // A live page whose socket the server refused (the session is gone: account disabled,
  // password or role changed, signed out elsewhere) or closed (the server's sweep of such
  // sessions) asks GET /session. Signed out: the answer names the login page (HX-Redirect,
  // the server's flash says why) and the whole window goes there, instead of showing
  // "Reconnecting…" forever. Still signed in: a socket the server closed is opened again
  // (Socket.IO does not reconnect by itself after a server-side disconnect). At most one
  // check every 15 s, unless `now` (the server closed the socket: worth asking at once).
  var lastSessionCheck = 0;
  function checkSession(socket, now) {
    if (!now && Date.now() - lastSessionCheck < 15000) return;
    lastSessionCheck = Date.now();
    fetch("/session", { credentials: "same-origin", cache: "no-store",
                        headers: { "HX-Request": "true", "HX-Current-URL": location.href } })
      .then(function (answer) {
        var login = answer.headers.get("HX-Redirect");
        if (answer.status === 401) { location.assign(login || "/login"); return; }
        if (socket && answer.ok && !socket.connected && !socket.active) socket.connect();
      })
      .catch(function () { /* the server is down: Socket.IO keeps trying */ });
  }
  window.passlineCheckSession = checkSession;

  // What every live page's socket does about it (stores.js; board.js has its own connect_error).
  window.passlineWatchSocket = function (socket) {
    socket.on("connect_error", function () { checkSession(socket, false); });
    socket.on("disconnect", function (reason) {
      if (reason === "io server disconnect") checkSession(socket, true);
    });
  };

  // The top bar's menu on a phone or a narrow tablet (responsive.css hides the button in a
  // wide window): the button opens and closes it; Esc, or a click elsewhere, closes it.
  var menuButton = document.querySelector(".menu-button");
  var topbar = menuButton && menuButton.closest(".topbar");
  function openMenu(open) {
    if (!menuButton) return;
    menuButton.setAttribute("aria-expanded", open ? "true" : "false");
    topbar.classList.toggle("menu-open", open);
  }
  if (menuButton) {
    menuButton.addEventListener("click", function () { openMenu(!topbar.classList.contains("menu-open")); });
    document.addEventListener("click", function (event) {
      if (topbar.classList.contains("menu-open") && !topbar.contains(event.target)) openMenu(false);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && topbar.classList.contains("menu-open")) { openMenu(false); menuButton.focus(); }
    });
  }

  // Groups that fold behind a button on a phone (the board's filters and alarm switches):
  // a [data-fold] button opens and closes its aria-controls group; Esc inside the group
  // closes it and gives the button the focus back. The buttons start hidden, so without
  // JavaScript nothing folds; responsive.css shows them (and folds .foldable) on a phone
  // only. "Filters (2)" counts the fields of the group that are set, so a folded filter
  // still shows it is on.
  document.querySelectorAll("button[data-fold]").forEach(function (button) {
    var group = document.getElementById(button.getAttribute("aria-controls"));
    if (!group) return;
    var count = button.querySelector("[data-fold-count]");
    function open(yes) {
      button.setAttribute("aria-expanded", yes ? "true" : "false");
      group.classList.toggle("open", yes);
    }
    function recount() {
      var set = Array.prototype.filter.call(group.querySelectorAll("select, input"), function (field) {
        return field.type === "checkbox" ? field.checked : field.value !== "";
      }).length;
      count.textContent = set ? " (" + set + ")" : "";
    }
    group.classList.add("foldable");
    button.hidden = false;
    button.addEventListener("click", function () { open(!group.classList.contains("open")); });
    group.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && group.classList.contains("open")) { open(false); button.focus(); }
    });
    if (count) { recount(); group.addEventListener("change", recount); }
  });

  document.addEventListener("htmx:sendError", function () {
    toast("No connection to the server. Nothing was changed.");
  });
})();
