// /stores, live: a store paused or reopened, an item 86'd or back, a new menu (each pushed
// as a "store" event) refreshes the list. Someone typing in one of its forms is not
// interrupted: the refresh waits until they leave the form, and keeps what they typed.
(function () {
  "use strict";

  var waiting = false;

  function typing() {
    var active = document.activeElement;
    return active && active.form && document.getElementById("stores").contains(active);
  }

  function refresh() {
    var list = document.getElementById("stores");
    if (!list) return;
    if (typing()) { waiting = true; return; }
    waiting = false;
    var typed = {}; // half-filled forms survive the refresh
    Array.prototype.forEach.call(list.querySelectorAll("form input[id]"), function (el) {
      if (el.type !== "hidden" && el.value) typed[el.id] = el.value;
    });
    // A notice they have not read yet (an added store) stays: the refresh is not theirs.
    var notice = list.querySelector("[data-notice]");
    notice = notice && notice.cloneNode(true);
    htmx.ajax("GET", location.pathname + location.search, { target: "#stores", swap: "outerHTML" }).then(function () {
      var fresh = document.getElementById("stores");
      if (notice && !fresh.querySelector("[data-notice]")) fresh.insertBefore(notice, fresh.firstChild);
      Object.keys(typed).forEach(function (id) {
        var el = document.getElementById(id);
        if (el && !el.value) el.value = typed[id];
      });
    });
  }

  // A menu the user opened stays open across any swap of the list (a live refresh, an
  // added store).
  var opened = [];
  document.addEventListener("htmx:beforeSwap", function (event) {
    var list = document.getElementById("stores");
    if (!list || event.detail.target !== list) return;
    opened = Array.prototype.map.call(list.querySelectorAll("details[data-menu][open]"),
      function (el) { return el.dataset.menu; });
  });
  document.addEventListener("htmx:afterSwap", function () {
    var list = document.getElementById("stores");
    if (!list || !opened.length) return;
    Array.prototype.forEach.call(list.querySelectorAll("details[data-menu]"), function (el) {
      if (opened.indexOf(el.dataset.menu) >= 0) el.open = true;
    });
    opened = [];
  });

  document.addEventListener("focusout", function () {
    if (waiting) setTimeout(function () { if (!typing()) refresh(); }, 0);
  });

  if (typeof io === "undefined") return;
  var socket = io({ transports: ["websocket", "polling"], reconnectionDelayMax: 2000 });
  socket.on("store", refresh);
  var conn = document.getElementById("conn");
  function indicate(state, text) { // as the board's: the dot in the top bar
    if (!conn) return;
    conn.className = "conn conn-" + state;
    conn.textContent = text;
    conn.dataset.state = state;
  }
  socket.on("connect", function () { indicate("live", "Live"); });
  socket.on("disconnect", function () { indicate("reconnecting", "Reconnecting…"); });
  socket.on("connect_error", function () { indicate("reconnecting", "Reconnecting…"); });
  socket.io.on("reconnect", refresh); // what changed while the connection was down
  // Refused or closed by the server: signed out (account disabled…) goes to the login page.
  if (window.passlineWatchSocket) window.passlineWatchSocket(socket);
})();
