// The courier panel beside the board (templates/board/_couriers.html): collapsible (remembered
// in this browser), and kept live by the server: after changes to couriers or their orders it
// pushes the list, rendered once for every board ("couriers"); a reconnect or catch-up reload
// of the board brings it too, out of band in the board's own answer (routes.index), as pushes
// may have been missed meanwhile. The bulk bar's courier choices are rebuilt from the same
// list, so their "(N open)" never go stale.
(function () {
  "use strict";

  var panel = document.getElementById("couriers");
  var list = document.getElementById("courier-list");
  var toggle = document.getElementById("couriers-toggle");
  if (!panel || !list || !toggle) return;
  var store = window.localStorage;
  var KEY = "passline.couriers";
  var WIDE = 1400; // px: panel.css gives the columns a little less room from here up

  function show(open) {
    panel.classList.toggle("is-collapsed", !open);
    list.hidden = !open;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  // Open by default where the columns keep their room beside it; the dispatcher's choice wins.
  show(store.getItem(KEY) ? store.getItem(KEY) === "open" : window.innerWidth >= WIDE);
  toggle.addEventListener("click", function () {
    var open = list.hidden;
    store.setItem(KEY, open ? "open" : "closed");
    show(open);
  });

  // The list pushed: its content replaced, as a board reload's answer does (the list itself
  // stays, hidden or not: the panel stays open or folded). A push that comes while the board
  // reloads waits for the reload to land (board.js, stripListener).
  var live = window.passlineBoard;
  if (live && live.socket) {
    live.socket.on("couriers", live.stripListener("couriers", function (data) {
      if (!data || typeof data.html !== "string") return;
      list.innerHTML = data.html;
      sync();
    }));
  }
  // The list a board reload brought out of band (hx-swap-oob="innerHTML": only its children
  // change). htmx 2 fires htmx:oobAfterSwap on the elements of the answer swapped so far, not
  // on the list itself, with the list as detail.target: so listened for here, maybe twice.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target === list) sync();
  });

  // The bulk bar offers the panel's couriers, in its order, with its loads; the choice stays.
  function sync() {
    var couriers = Array.prototype.slice.call(list.querySelectorAll("[data-courier-id]"));
    var count = document.getElementById("couriers-count");
    if (count) count.textContent = couriers.length;
    var select = document.getElementById("bulk-courier");
    if (select) {
      var chosen = select.value;
      while (select.options.length > 1) select.remove(1);
      couriers.forEach(function (el, i) {
        var text = el.dataset.name + " (" + el.dataset.summary + ")" + (i === 0 ? " — suggested" : "");
        select.add(new Option(text, el.dataset.courierId, false, el.dataset.courierId === chosen));
      });
    }
    var suggest = document.getElementById("bulk-suggest");
    if (suggest) {
      var first = couriers[0];
      suggest.textContent = first ? "Suggested: " + first.dataset.name + " (" + first.dataset.summary + ")" : "No active courier.";
    }
    ticks();
  }

  // Idle minutes move on between refreshes.
  function ticks() {
    var now = Date.now();
    Array.prototype.forEach.call(list.querySelectorAll("time[data-idle-since]"), function (el) {
      el.textContent = Math.max(0, Math.floor((now - +el.dataset.idleSince) / 60000)) + " min";
    });
  }
  setInterval(ticks, 30000);
})();
