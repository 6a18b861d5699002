// The live board: Socket.IO updates (newest version wins), catch-up after a reconnect,
// the order detail panel, bulk selection, calm alarms (sound + notification) and keyboard.
// Cards arrive as server-rendered HTML; customer text is never put in the DOM as HTML here.
(function () {
  "use strict";

  var TICK_MS = 5000; // "time in state" refresh (cheap: only rendered cards)
  var store = window.localStorage;

  var board = null; // #board
  var known = new Map(); // order id -> newest version seen (also for cards no longer shown)
  var levels = new Map(); // order id -> overdue level last seen
  var failedSeen = new Set(); // ids whose card already showed a failed call (alarmed once)
  var alarmedAt = new Map(); // order id -> when its alarm was first raised (repeats wait past a threshold)
  var more = new Map(); // column key -> Set of ids the server left out (capped column)
  var selected = new Set(); // ids picked for a bulk action
  var reloading = 0; // board (re)loads in flight: updates wait until the last one has landed
  // The board load in flight (a filter change, a reload): one at a time. Two at once would
  // both target the same #board; the later swap would land on a detached element, whose
  // settle event never reaches us, and the board would wait for it (buffering every push).
  var boardXhr = null;
  var columnXhrs = new Set(); // column loads in flight ("show all"): a board load replaces them
  var reloadAgain = false; // a reload was asked for while a load was in flight
  var buffered = []; // updates that arrive while the board reloads
  var detailId = null;
  var focusCancel = false;
  var expanded = new Set(); // columns whose "show all" was asked for: kept across reloads
  var kept = null; // what a board reload must not lose: focused card, column scrolls
  var reexpanding = 0; // "show all" requests a reload sent again, still to land

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $$(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }
  function cardOf(id) { return board && board.querySelector('[data-order-id="' + CSS.escape(id) + '"]'); }
  function cardLevel(card) {
    return card.classList.contains("lvl-2") ? 2 : card.hasAttribute("data-overdue") ? 1 : 0;
  }

  // --- the board's state, rebuilt from the DOM after each (re)load -------------------

  function rebuild() {
    board = document.getElementById("board");
    if (!board) return;
    more.clear();
    $$("section[data-state]", board).forEach(function (col) {
      var list = $(".cards", col);
      more.set(col.dataset.state, new Set(JSON.parse(list.dataset.more || "[]")));
    });
    $$(".card", board).forEach(function (card) {
      var id = card.dataset.orderId;
      known.set(id, Math.max(known.get(id) || 0, +card.dataset.version));
      levels.set(id, cardLevel(card));
      if (card.classList.contains("has-failed")) failedSeen.add(id);
      if (card.hasAttribute("data-alarm") && !alarmedAt.has(id)) alarmedAt.set(id, Date.now());
      var pick = $(".pick", card);
      if (pick) pick.checked = selected.has(id);
      if (id === detailId) card.classList.add("is-open");
    });
    counts();
    tick();
    showSelection();
  }

  // A reload replaces every card: the focused one and each column's scroll come back.
  function keep() {
    if (!board) return;
    var focused = current();
    kept = { focus: focused ? focused.dataset.orderId : null, scroll: {} };
    $$("section[data-state]", board).forEach(function (col) { kept.scroll[col.dataset.state] = $(".cards", col).scrollTop; });
  }
  function restore() {
    if (!kept || !board) return;
    $$("section[data-state]", board).forEach(function (col) {
      if (kept.scroll[col.dataset.state]) $(".cards", col).scrollTop = kept.scroll[col.dataset.state];
    });
    var card = kept.focus && cardOf(kept.focus);
    if (card && (document.activeElement === document.body || !document.activeElement)) card.focus();
    if (!reexpanding) kept = null; // else once more, when the last whole column has landed
  }
  function reexpand() {
    expanded.forEach(function (key) {
      var col = board && board.querySelector('section[data-state="' + key + '"]');
      if (!col) return;
      reexpanding += 1;
      htmx.ajax("GET", "/board/columns/" + encodeURIComponent(key) + location.search, { target: col, swap: "outerHTML" })
        .then(null, function () { reexpanding = Math.max(0, reexpanding - 1); settled(); });
    });
  }

  function counts() {
    $$("section[data-state]", board).forEach(function (col) {
      var n = $$(".card", col).length + (more.get(col.dataset.state) || new Set()).size;
      $(".count", col).textContent = n;
    });
  }

  function matches(card) {
    var f = board.dataset;
    if (f.filterStore && card.dataset.store !== f.filterStore) return false;
    if (f.filterType && card.dataset.type !== f.filterType) return false;
    if (f.filterOverdue === "1" && !card.hasAttribute("data-overdue")) return false;
    if (f.filterQ && card.dataset.search.indexOf(f.filterQ) < 0) return false;
    return true;
  }

  // Same order as the server: open columns longest-waiting first, terminal ones newest first.
  function before(a, b, newestFirst) {
    var sa = +a.dataset.sort, sb = +b.dataset.sort;
    var ia = a.dataset.orderId, ib = b.dataset.orderId;
    var asc = sa < sb || (sa === sb && ia < ib);
    return newestFirst ? !asc && !(sa === sb && ia === ib) : asc;
  }

  function place(col, card) {
    var list = $(".cards", col);
    var newestFirst = col.dataset.newestFirst === "1";
    var next = $$(".card", list).find(function (other) { return before(card, other, newestFirst); });
    var hidden = more.get(col.dataset.state);
    if (!next && hidden && hidden.size) {
      hidden.add(card.dataset.orderId); // past the rendered cards of a capped column
      return false;
    }
    list.insertBefore(card, next || null);
    return true;
  }

  function fromHtml(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  // --- live updates ---------------------------------------------------------------------

  function applyUpdate(update) {
    if (reloading) { buffered.push(update); return; }
    if (!board) return;
    var seen = known.get(update.id);
    if (seen !== undefined && seen >= update.version) return; // stale or duplicate
    known.set(update.id, update.version);

    var old = cardOf(update.id);
    var hadFocus = old && old === document.activeElement;
    var before_level = old ? cardLevel(old) : (levels.get(update.id) || 0);
    if (old) old.remove();
    more.forEach(function (ids) { ids.delete(update.id); });

    var card = fromHtml(update.html);
    var col = update.column && board.querySelector('section[data-state="' + update.column + '"]');
    if (card && col && matches(card) && place(col, card)) {
      var pick = $(".pick", card);
      if (pick) pick.checked = selected.has(update.id);
      if (update.id === detailId) card.classList.add("is-open");
      if (hadFocus) card.focus();
      tickCard(card, Date.now());
    }
    counts();
    if (selected.has(update.id)) showSelection();
    levels.set(update.id, update.overdue_level || 0);

    if (seen === undefined && update.state === "submitted" && update.alarm) {
      alarm("new", update.id, card);
    } else if ((update.overdue_level || 0) > before_level) {
      alarm("overdue", update.id, card);
    }
    var failing = card && card.classList.contains("has-failed");
    if (failing && !failedSeen.has(update.id)) alarm("failed", update.id, card);
    if (failing) failedSeen.add(update.id); else failedSeen.delete(update.id);
    if (update.id === detailId) refreshDetail(update.version);
  }

  // The attention strip, rendered once by the server for every board after changes (and
  // every minute): swapped in whole, as the board's reload swaps it (out of band, by its id).
  function applyAttention(data) {
    var old = document.getElementById("attention");
    var fresh = data && data.html && fromHtml(data.html);
    if (!old || !fresh || fresh.id !== "attention") return;
    old.replaceWith(fresh);
  }

  // The strips (the attention strip, the courier list: app/board/strips.py) have no version,
  // and a board reload's answer carries both, out of band, as the server rendered them when
  // it answered. A strip pushed while that reload is in flight may be newer than the one it
  // brings: applied at once, it would be overwritten by the older. So during a reload only
  // the latest push of each strip is kept, and applied once the reload has settled. That
  // push may instead be the older of the two (rendered before the reload's, delivered
  // after): then whatever changed in between has its own push still to come (every change
  // is followed by a push of the strips it touches, rendered after its commit), so the last
  // push is always at least as new as the change that caused it, and the strip mends itself.
  var heldStrips = new Map(); // strip event -> applying its latest push, kept while reloading
  function stripListener(name, apply) {
    return function (data) {
      if (reloading) heldStrips.set(name, function () { apply(data); });
      else apply(data);
    };
  }

  function finishReload() {
    reloading = Math.max(0, reloading - 1);
    if (reloading) return;
    var pending = buffered;
    buffered = [];
    pending.forEach(applyUpdate);
    var strips = heldStrips;
    heldStrips = new Map();
    strips.forEach(function (apply) { apply(); });
    settled();
  }

  // Nothing in flight any more: a reload asked for meanwhile goes now.
  function settled() {
    if (reloadAgain && !reloading && !reexpanding) { reloadAgain = false; reloadBoard(); }
    loading(reloading > 0 || reexpanding > 0 || reloadAgain);
  }

  // <html data-board-loading> while the board is being (re)loaded, from the moment a reload
  // is asked for until its columns have settled: a hook for tests (and styles) to know the
  // board is settled, which the htmx-request class alone cannot tell between two loads.
  function loading(on) { document.documentElement.toggleAttribute("data-board-loading", !!on); }

  // After a disconnect the board is loaded again, so it shows exactly what a fresh load shows.
  // A load already on its way may have been rendered before what this reload is for: another
  // follows it.
  function reloadBoard() {
    if (!document.getElementById("board")) return;
    loading(true);
    if (boardXhr || reexpanding) { reloadAgain = true; return; }
    htmx.ajax("GET", location.pathname + location.search, { target: "#board", swap: "outerHTML" })
      .catch(function () {}); // failed or superseded: afterRequest has dealt with it
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.target && event.detail.target.id === "board") {
      reloading += 1; // before the abort below, so the pushes stay buffered
      loading(true);
      // The newer load wins (a filter the dispatcher just chose, and the reload that sees it),
      // and the columns of the board it replaces are not loaded any more.
      if (boardXhr && boardXhr !== event.detail.xhr) boardXhr.abort();
      boardXhr = event.detail.xhr;
      columnXhrs.forEach(function (xhr) { xhr.abort(); });
    } else if (event.detail.target && event.detail.target.matches && event.detail.target.matches("section[data-state]")) {
      columnXhrs.add(event.detail.xhr);
    }
    var more = event.detail.elt && event.detail.elt.classList && event.detail.elt.classList.contains("more");
    if (more) expanded.add(event.detail.elt.closest("section[data-state]").dataset.state);
  });
  // What the reload must not lose is what the dispatcher has when its answer lands, not when
  // it was asked for: a card focused while the reload was on its way (a slow answer, a
  // crowded server) is the one to focus again.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "board") keep();
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    // Once per board answer: htmx settles each element it swapped, and a board answer also
    // brings the attention strip (out of band, routes.index), whose settle carries the same
    // detail (its target the old #board). Only the new #board's own settle counts.
    if (event.target.id === "board") {
      rebuild();
      reexpand();
      restore();
      finishReload();
    }
    if (event.detail.target && event.detail.target.closest && event.detail.target.closest("section[data-state]")) {
      rebuild(); // "show all" replaced a column
      if (reexpanding) { reexpanding -= 1; restore(); }
      settled();
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.xhr === boardXhr) boardXhr = null;
    columnXhrs.delete(event.detail.xhr);
    if (reloading && !event.detail.successful && event.detail.target && event.detail.target.id === "board") {
      finishReload();
    }
  });

  var conn = document.getElementById("conn");
  function indicate(state, text) {
    if (!conn) return;
    conn.className = "conn conn-" + state;
    conn.textContent = text;
    conn.dataset.state = state;
  }

  var lastRefusalCheck = 0;
  function connect() {
    if (typeof io === "undefined") { indicate("offline", "No live updates"); return null; }
    var socket = io({ transports: ["websocket", "polling"], reconnectionDelayMax: 2000 });
    var connected = false;
    socket.on("connect", function () {
      if (connected) { indicate("live", "Live"); reloadBoard(); return; } // a reconnect: pushes were missed meanwhile
      connected = true;
      // The first connect follows the page's own load: reload only if something changed
      // between its render and the socket joining (pushes then reached no one). "Live" once
      // that is settled (and the reload, if any, on its way).
      var rendered = board ? +board.dataset.now : null;
      socket.timeout(5000).emit("board_changed_since", rendered, function (error, changed) {
        if (error || changed !== false) reloadBoard();
        indicate("live", "Live");
      });
    });
    socket.on("disconnect", function (reason) {
      indicate("reconnecting", "Reconnecting…");
      // Closed by the server (an ended session's socket is swept): signed out goes to login.
      if (reason === "io server disconnect" && window.passlineCheckSession) window.passlineCheckSession(socket, true);
    });
    socket.on("connect_error", function () {
      indicate("reconnecting", "Reconnecting…");
      // The server may be up and refusing this socket: the session is gone (signed out
      // elsewhere, a new SECRET_KEY). A board refresh then answers with a redirect to the
      // login page for the whole window (HX-Redirect); once in a while is enough.
      if (Date.now() - lastRefusalCheck > 15000) { lastRefusalCheck = Date.now(); reloadBoard(); }
    });
    socket.on("order", applyUpdate);
    socket.on("orders", function (updates) { updates.forEach(applyUpdate); }); // piled up meanwhile
    socket.on("attention", stripListener("attention", applyAttention));
    // A courier (de)activated: the cards they carry say so (the strip comes pushed).
    socket.on("courier", function () { reloadBoard(); });
    window.addEventListener("offline", function () { indicate("offline", "Offline"); });
    return socket;
  }

  // Pushes are best effort: one lost on the way (a Redis blip between processes, a process
  // killed between commit and push) would leave a card stale while the socket stays up.
  // So a visible board also reloads itself every data-catch-up-ms (the server stretches it
  // when it holds many boards), give or take a tenth: boards opened together (a shift
  // starting, a deploy) do not all reload together every time.
  function catchUpMs() { return board ? +board.dataset.catchUpMs : 0; } // 0: never
  function catchUp() {
    if (catchUpMs() > 0 && !document.hidden && !reloading && !reexpanding) reloadBoard();
    setTimeout(catchUp, (catchUpMs() || 60000) * (0.9 + 0.2 * Math.random())); // a reload may change it
  }

  // --- detail panel ---------------------------------------------------------------------

  var detail = document.getElementById("detail");

  function openDetail(url, id) {
    detailId = id || null;
    $$(".card.is-open").forEach(function (c) { c.classList.remove("is-open"); });
    if (id && cardOf(id)) cardOf(id).classList.add("is-open");
    return htmx.ajax("GET", url, { target: "#detail-body", swap: "innerHTML" });
  }

  function closeDetail() {
    detailId = null;
    if (detail) detail.hidden = true;
    $$(".card.is-open").forEach(function (c) { c.classList.remove("is-open"); });
    showInUrl();
  }

  // The open order is in the URL (?order=<id>, beside the filters), so a reload or a shared
  // link shows it again. Opening or closing one is a history entry of its own: Back and
  // Forward reopen or close it (htmx's own entries, the filters, reload the page).
  function shownOrder() {
    var inner = detail && !detail.hidden && $("#detail-body [data-detail-id]");
    return inner ? inner.dataset.detailId : null;
  }
  function orderInUrl() { return new URLSearchParams(location.search).get("order"); }
  function withOrder(path, id) {
    var url = new URL(path, location.href);
    if (id) url.searchParams.set("order", id); else url.searchParams.delete("order");
    return url.pathname + url.search + url.hash;
  }
  function showInUrl() {
    var id = shownOrder();
    if (id !== orderInUrl()) history.pushState(null, "", withOrder(location.href, id));
  }
  function followUrl() { // the panel as the URL says: on load, Back, Forward
    var id = orderInUrl();
    if (id && id !== shownOrder()) openDetail(detailUrl(id), id);
    else if (!id && shownOrder()) closeDetail();
  }
  window.addEventListener("popstate", function (event) {
    if (!(event.state && event.state.htmx)) followUrl();
  });
  // A filter change pushes the board's URL: the open order stays in it.
  document.addEventListener("htmx:beforeHistoryUpdate", function (event) {
    event.detail.history.path = withOrder(event.detail.history.path, shownOrder());
  });
  // An order the URL names that cannot be shown (unknown, a typo) leaves the URL.
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.target && event.detail.target.id === "detail-body" && !shownOrder() && orderInUrl()) {
      history.replaceState(history.state, "", withOrder(location.href, null));
    }
  });

  function refreshDetail(version) {
    var inner = $("#detail-body [data-detail-id]");
    if (!inner || +inner.dataset.version >= version) return; // already shows this or newer
    htmx.ajax("GET", detailUrl(inner.dataset.detailId),
      { target: "#detail-body", swap: "innerHTML", headers: { "X-Passline-Refresh": "1" } });
  }

  // A refresh never replaces the detail with an older or equal version of the same order
  // (an action's answer, with its message, may already show it).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var config = event.detail.requestConfig;
    if (event.detail.target.id !== "detail-body" || !config || !config.headers["X-Passline-Refresh"]) return;
    var shown = $("#detail-body [data-detail-id]");
    var fresh = fromHtml(event.detail.serverResponse || "");
    if (!shown || !fresh || !fresh.dataset || fresh.dataset.detailId !== shown.dataset.detailId) return;
    if (+fresh.dataset.version <= +shown.dataset.version) event.detail.shouldSwap = false;
    else typed = formState(); // what someone is typing survives the refresh
  });

  // The detail's forms, as typed: {form action: {field name: value}}, and the focused field.
  var typed = null;
  function formState() {
    var state = { forms: {}, focus: null };
    $$("#detail-body form").forEach(function (form) {
      var fields = {};
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name && el.type !== "hidden" && el.type !== "submit") fields[el.name] = el.value;
        if (el === document.activeElement) state.focus = [form.getAttribute("action"), el.name];
      });
      state.forms[form.getAttribute("action")] = fields;
    });
    return state;
  }
  function restoreForms(state) {
    $$("#detail-body form").forEach(function (form) {
      var fields = state.forms[form.getAttribute("action")];
      if (!fields) return;
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name in fields && el.type !== "hidden" && el.type !== "submit") el.value = fields[el.name];
        if (state.focus && state.focus[0] === form.getAttribute("action") && state.focus[1] === el.name) el.focus();
      });
    });
  }

  function detailUrl(id) {
    var card = cardOf(id);
    var link = card && $("a.oid", card);
    return link ? link.href : "/orders/" + encodeURIComponent(id);
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "detail-body" || !detail) return;
    detail.hidden = false;
    if (typed) { restoreForms(typed); typed = null; }
    // The panel shows an order, or something else (a bulk result): only an order's card
    // is marked open.
    var inner = $("[data-detail-id]", detail);
    detailId = inner ? inner.dataset.detailId : null;
    $$(".card.is-open").forEach(function (c) { if (c.dataset.orderId !== detailId) c.classList.remove("is-open"); });
    showInUrl();
    if (focusCancel) {
      focusCancel = false;
      var reason = $(".act-cancel select", detail);
      if (reason) reason.focus();
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest("[data-close-detail]")) { closeDetail(); return; }
    if (target.closest(".pick")) return; // selecting, not opening
    var link = target.closest("a[data-open]");
    if (link) {
      event.preventDefault();
      openDetail(link.href, link.closest("[data-result-for]") ? link.closest("[data-result-for]").dataset.resultFor : null);
      return;
    }
    var card = target.closest(".card");
    if (card && board && board.contains(card)) {
      event.preventDefault();
      card.focus();
      openDetail(detailUrl(card.dataset.orderId), card.dataset.orderId);
    }
  });

  // --- an order that does not exist (a mistyped id, an old link) -----------------------
  // Said in the panel in plain words, instead of the generic "the server answered 404"
  // toast (app.js skips an error marked handled; this runs first, in the capture phase).

  function showMissingOrder(event) {
    var target = event.detail.target;
    if (!detail || !target || target.id !== "detail-body" || event.detail.xhr.status !== 404) return;
    var id = detailId || orderInUrl() || "";
    event.detail.passlineHandled = true;
    var box = document.createElement("div");
    box.className = "detail-missing";
    box.setAttribute("role", "alert");
    box.setAttribute("data-missing-order", id);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "close";
    close.setAttribute("data-close-detail", "");
    close.setAttribute("aria-label", "Close (Esc)");
    close.textContent = "×";
    var text = document.createElement("p");
    text.textContent = "No order “" + id + "”. Check the id, or search the board for it.";
    box.append(close, text);
    target.replaceChildren(box);
    detail.hidden = false;
    detailId = null;
  }
  document.addEventListener("htmx:responseError", showMissingOrder, true);

  // --- bulk selection -------------------------------------------------------------------

  var bulk = document.getElementById("bulk-form");
  function showSelection() {
    if (!bulk) return;
    selected.forEach(function (id) { if (!cardOf(id)) selected.delete(id); }); // left the board
    bulk.hidden = selected.size === 0;
    $("#bulk-count").textContent = selected.size;
  }
  function toggle(id, on) {
    if (on) selected.add(id); else selected.delete(id);
    var card = cardOf(id);
    if (card && $(".pick", card)) $(".pick", card).checked = on;
    showSelection();
  }
  document.addEventListener("change", function (event) {
    var pick = event.target.closest(".pick");
    if (pick) toggle(pick.value, pick.checked);
  });
  if (bulk) {
    // Only the orders the action was applied to leave the selection: refused ones (and all
    // of them when the form itself was refused) stay picked, to be fixed and tried again;
    // the panel says why each was refused.
    bulk.addEventListener("htmx:afterRequest", function (event) {
      var answer = fromHtml(event.detail.xhr.responseText || "");
      if (!answer) return;
      $$("li.ok[data-result-for]", answer).forEach(function (row) { toggle(row.dataset.resultFor, false); });
    });
    $("#bulk-clear").addEventListener("click", function () {
      Array.from(selected).forEach(function (id) { toggle(id, false); });
    });
  }

  // --- alarms: sound and notifications, each with an off switch -------------------------

  var sound = document.getElementById("alert-sound");
  var banner = document.getElementById("sound-banner");
  var soundButton = document.getElementById("toggle-sound");
  var notifyButton = document.getElementById("toggle-notify");
  var soundOn = store.getItem("passline.sound") !== "off";
  var notifyOn = store.getItem("passline.notify") === "on";

  function showSwitches() {
    if (soundButton) { soundButton.setAttribute("aria-pressed", soundOn); soundButton.textContent = soundOn ? "Sound on" : "Sound off"; }
    if (notifyButton) {
      var allowed = "Notification" in window && Notification.permission === "granted";
      notifyButton.setAttribute("aria-pressed", notifyOn && allowed);
      notifyButton.textContent = notifyOn && allowed ? "Notifications on" : "Notifications off";
    }
    if (banner && !soundOn) banner.hidden = true;
  }

  function play(volume) {
    if (!sound || !soundOn) return Promise.resolve();
    sound.volume = volume;
    sound.currentTime = 0;
    var attempt = sound.play();
    if (!attempt) return Promise.resolve();
    return attempt.then(function () {
      if (banner) banner.hidden = true;
      if (volume === 0) sound.pause();
    }, function (error) {
      if (error && error.name === "NotAllowedError" && banner) banner.hidden = false;
    });
  }

  // Calm alarms: what arrives in a burst (orders a second apart) is one chime and one
  // notification that sums it up ("3 new orders, 1 overdue"); a chime at most every
  // QUIET_MS, what comes meanwhile waits for the next. Each kind (new, overdue, failed
  // call) has its own switch, remembered in this browser. window.passlineAlarms counts
  // what was raised: a hook for tests.
  var REPEAT_MS = sound ? +sound.dataset.repeatMs || 30000 : 30000; // BOARD_ALARM_REPEAT_SECONDS
  var BURST_MS = 1500, MAX_BURST_MS = 5000, QUIET_MS = Math.min(20000, REPEAT_MS);
  var KINDS = { "new": ["new order", "new orders", "New order"], overdue: ["overdue", "overdue", "Overdue"],
    failed: ["failed call", "failed calls", "Failed call"] };
  var kindOn = {};
  Object.keys(KINDS).forEach(function (kind) { kindOn[kind] = store.getItem("passline.alarm." + kind) !== "off"; });
  var pending = { "new": [], overdue: [], failed: [] };
  var pendingCard = null, burstStart = 0, flushTimer = null, lastChime = -Infinity;
  var alarms = window.passlineAlarms = { chimes: 0, notifications: 0, last: "" };

  function chime() {
    if (!soundOn) return;
    lastChime = Date.now();
    alarms.chimes += 1;
    play(1);
  }

  function notify(title, body) {
    if (!notifyOn || !("Notification" in window) || Notification.permission !== "granted") return;
    try {
      new Notification(title, { body: body, tag: "passline-alarm" }); // replaces the last one, never piles up
      alarms.notifications += 1;
    } catch (e) { /* some browsers need a service worker */ }
  }

  function cardLine(card) {
    return card ? [$(".card-store", card), $(".cust", card), $(".total", card)]
      .filter(Boolean).map(function (el) { return el.textContent.trim(); }).join(" · ") : "";
  }

  function alarm(kind, id, card) {
    if (!kindOn[kind]) return;
    if (!alarmedAt.has(id)) alarmedAt.set(id, Date.now());
    if (pending[kind].indexOf(id) < 0) pending[kind].push(id);
    pendingCard = card || pendingCard;
    var now = Date.now();
    if (!flushTimer) burstStart = now;
    clearTimeout(flushTimer);
    var at = Math.min(now + BURST_MS, burstStart + MAX_BURST_MS);
    flushTimer = setTimeout(flush, Math.max(at, lastChime + QUIET_MS) - now);
  }

  function flush() {
    flushTimer = null;
    var parts = [], ids = [], one = null;
    Object.keys(KINDS).forEach(function (kind) {
      var n = pending[kind].length;
      if (n) parts.push(n + " " + KINDS[kind][n === 1 ? 0 : 1]);
      if (n) one = KINDS[kind][2] + " " + pending[kind][0];
      ids = ids.concat(pending[kind]);
      pending[kind] = [];
    });
    if (!parts.length) return;
    var summary = parts.join(", ");
    alarms.last = summary;
    chime();
    // One thing: named ("New order X", its card in the body); several: counted, ids in the body.
    if (ids.length === 1) notify(one, cardLine(pendingCard));
    else notify(summary.charAt(0).toUpperCase() + summary.slice(1), ids.slice(0, 6).join(", ") + (ids.length > 6 ? "…" : ""));
    pendingCard = null;
  }

  // The switches per kind.
  function showKinds() {
    $$("[data-alarm-kind]").forEach(function (button) {
      button.setAttribute("aria-pressed", kindOn[button.dataset.alarmKind] ? "true" : "false");
    });
  }
  $$("[data-alarm-kind]").forEach(function (button) {
    button.addEventListener("click", function () {
      var kind = button.dataset.alarmKind;
      kindOn[kind] = !kindOn[kind];
      store.setItem("passline.alarm." + kind, kindOn[kind] ? "on" : "off");
      showKinds();
    });
  });
  showKinds();

  if (soundButton) soundButton.addEventListener("click", function () {
    soundOn = !soundOn;
    store.setItem("passline.sound", soundOn ? "on" : "off");
    showSwitches();
    if (soundOn) play(1);
  });
  if (notifyButton) notifyButton.addEventListener("click", function () {
    if (!("Notification" in window)) { window.passlineToast("This browser has no notifications."); return; }
    if (Notification.permission === "denied") {
      window.passlineToast("Notifications are blocked for this site in the browser's settings.");
      return;
    }
    if (Notification.permission !== "granted") {
      Notification.requestPermission().then(function () { notifyOn = true; store.setItem("passline.notify", "on"); showSwitches(); });
      return;
    }
    notifyOn = !notifyOn;
    store.setItem("passline.notify", notifyOn ? "on" : "off");
    showSwitches();
  });
  // A browser that blocks sound until the first click is asked once, silently, and said so.
  document.addEventListener("click", function () {
    if (banner && !banner.hidden) play(0);
  });

  // An alarm repeats (a chime, no notification) only while an overdue or new order stays
  // unopened and unacknowledged past the repeat threshold, and only if its kind is on.
  setInterval(function () {
    if (!board || Date.now() - lastChime < REPEAT_MS) return;
    var now = Date.now();
    var due = $$("[data-alarm]", board).some(function (card) {
      var kind = card.hasAttribute("data-overdue") ? "overdue" : "new";
      var since = alarmedAt.get(card.dataset.orderId);
      return kindOn[kind] && since !== undefined && now - since >= REPEAT_MS;
    });
    if (due) chime();
  }, Math.min(REPEAT_MS, 10000));

  // --- time in state --------------------------------------------------------------------

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + "s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + "m";
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours < 24) return hours + "h" + (minutes < 10 ? "0" : "") + minutes + "m";
    return Math.floor(hours / 24) + "d" + (hours % 24) + "h";
  }
  function tickCard(card, now) {
    $$("[data-since]", card).forEach(function (el) {
      el.textContent = duration((now - +el.dataset.since) / 1000);
    });
  }
  function tick() {
    if (!board) return;
    var now = Date.now();
    var recent = +board.dataset.recentMs;
    $$('section[data-newest-first="1"] .card', board).forEach(function (card) {
      if (now - +card.dataset.sort > recent) card.remove(); // finished long ago: off the board
    });
    $$(".card", board).forEach(function (card) { tickCard(card, now); });
    counts();
  }
  setInterval(tick, TICK_MS);

  // --- the promise: each card counts down to its limit's due time -----------------------
  // Amber in the limit's last fifth (SOON_SHARE in app/board/cards.py), red once past it;
  // the server's first render says the same, so a card never flashes the wrong colour.

  var DUE_TICK_MS = 1000;
  var SOON_SHARE = 0.2;
  function tickDue(now) {
    if (!board) return;
    $$(".due[data-due]", board).forEach(function (chip) {
      var due = +chip.dataset.due, from = +chip.dataset.dueFrom || due;
      var left = (due - now) / 1000;
      var level = left < 0 ? "late" : left < SOON_SHARE * Math.max(0, due - from) / 1000 ? "soon" : "ok";
      var text = duration(Math.abs(left)) + (left < 0 ? " late" : " left");
      var out = $(".due-left", chip);
      if (out && out.textContent !== text) out.textContent = text;
      if (!chip.classList.contains("due-" + level)) {
        chip.classList.remove("due-ok", "due-soon", "due-late");
        chip.classList.add("due-" + level);
      }
    });
  }
  setInterval(function () { tickDue(Date.now()); }, DUE_TICK_MS);

  // --- phone: one column at a time, the column heads as tabs (responsive.css) ------------
  // The chosen column is data-tab on #board, kept across the board's reloads; before any
  // choice the first column shows.

  var phoneTab = null;
  function showPhoneTab() {
    var current = document.getElementById("board");
    if (current && phoneTab) current.dataset.tab = phoneTab;
  }
  document.addEventListener("click", function (event) {
    var head = event.target.closest && event.target.closest("#board .col-head");
    if (!head) return;
    phoneTab = head.closest("section[data-state]").dataset.state;
    showPhoneTab();
  });
  document.addEventListener("htmx:afterSettle", showPhoneTab);

  // --- keyboard -------------------------------------------------------------------------

  var help = document.getElementById("help");
  function columnsWithCards() {
    return $$("section[data-state]", board).map(function (col) { return $$(".card", col); });
  }
  function current() {
    var active = document.activeElement;
    return active && active.classList && active.classList.contains("card") && board.contains(active) ? active : null;
  }
  function move(dx, dy) {
    var cols = columnsWithCards();
    var card = current();
    if (!card) {
      var first = cols.find(function (c) { return c.length; });
      if (first) first[0].focus();
      return;
    }
    var ci = cols.findIndex(function (c) { return c.indexOf(card) >= 0; });
    var ri = cols[ci].indexOf(card);
    if (dy) {
      var next = cols[ci][ri + dy];
      if (next) next.focus();
      return;
    }
    for (var c = ci + dx; c >= 0 && c < cols.length; c += dx) {
      if (cols[c].length) { cols[c][Math.min(ri, cols[c].length - 1)].focus(); return; }
    }
  }
  function acknowledge(card) {
    htmx.ajax("POST", detailUrl(card.dataset.orderId) + "/acknowledge", { swap: "none", source: card });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || !board) return;
    var typing = /INPUT|SELECT|TEXTAREA/.test(event.target.tagName);
    if (event.key === "Escape") {
      if (help && !help.hidden) help.hidden = true;
      else closeDetail();
      if (typing) event.target.blur();
      return;
    }
    if (typing) return;
    var card = current();
    switch (event.key) {
      case "j": case "ArrowDown": move(0, 1); break;
      case "k": case "ArrowUp": move(0, -1); break;
      case "h": case "ArrowLeft": move(-1, 0); break;
      case "l": case "ArrowRight": move(1, 0); break;
      case "Enter": if (card) openDetail(detailUrl(card.dataset.orderId), card.dataset.orderId); else return; break;
      case "a": if (card) acknowledge(card); break;
      case "c": if (card) { focusCancel = true; openDetail(detailUrl(card.dataset.orderId), card.dataset.orderId); } break;
      case "x": if (card) toggle(card.dataset.orderId, !selected.has(card.dataset.orderId)); break;
      case "/": $("#q").focus(); break;
      case "?": if (help) help.hidden = !help.hidden; break;
      default: return;
    }
    event.preventDefault();
  });
  if (help) {
    $("#help-open").addEventListener("click", function () { help.hidden = !help.hidden; });
    $("#help-close").addEventListener("click", function () { help.hidden = true; });
  }

  // --- start ----------------------------------------------------------------------------

  rebuild();
  followUrl();
  showSwitches();
  if (soundOn) play(0); // learn now whether the browser blocks sound
  var socket = connect();
  setTimeout(catchUp, catchUpMs() || 60000);
  window.passlineBoard = { socket: socket, reload: reloadBoard, known: known, stripListener: stripListener };
})();
