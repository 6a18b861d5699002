// A courier's page (/c/<token>, contract §3.5). Three jobs:
// - taps: each gets an id made here, is kept in localStorage until the server has answered,
//   and is sent again when the phone is back online; the server applies an id once, so a tap
//   sent twice (an answer lost on the way) changes nothing the second time;
// - the list: polled every few seconds with If-None-Match (304 when nothing changed);
// - position: only after the courier taps "Share my location", only while the page is open.
(function () {
  "use strict";
  const body = document.body;
  const list = document.getElementById("orders");
  const net = document.getElementById("net");
  const outbox = document.getElementById("outbox");
  const urls = {orders: body.dataset.ordersUrl, tap: body.dataset.tapUrl, position: body.dataset.positionUrl};
  const buttons = JSON.parse(body.dataset.buttons);
  const QUEUE = "passline-taps:" + urls.tap;  // per link: a new link starts a clean queue
  const SHARE = "passline-share-position:" + urls.tap;
  let etag = null;
  let flushing = false;

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // crypto.randomUUID exists on https and localhost only: the same v4 UUID by hand.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function queue() {
    try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  }
  function save(taps) { localStorage.setItem(QUEUE, JSON.stringify(taps)); }

  function card(orderId) {
    return list.querySelector(`[data-order-id="${CSS.escape(orderId)}"]`);
  }

  function setNet(online) {
    net.dataset.net = online ? "online" : "offline";
    net.textContent = online ? "Online" : "Offline: taps are kept and sent later";
  }

  // What the page shows for taps not yet answered: "waiting to send" on their card, and the
  // button already on the status after them, so a courier offline can keep going.
  function showQueue() {
    const taps = queue();
    outbox.hidden = taps.length === 0;
    outbox.textContent = taps.length ? `${taps.length} tap${taps.length > 1 ? "s" : ""} waiting to send` : "";
    list.querySelectorAll("[data-order-id]").forEach((el) => {
      const mine = taps.filter((t) => t.order_id === el.dataset.orderId);
      el.querySelector("[data-pending]").hidden = mine.length === 0;
      el.toggleAttribute("data-waiting", mine.length > 0);
      if (!mine.length) return;
      const steps = el.dataset.steps.split(" ").filter(Boolean);
      const after = steps.slice(steps.indexOf(mine[mine.length - 1].status) + 1);
      const button = el.querySelector("[data-next-status]");
      if (!button) return;
      if (after.length) {
        button.dataset.nextStatus = after[0];
        button.textContent = buttons[after[0]];
      } else {
        button.remove();
      }
    });
  }

  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      let taps = queue();
      while (taps.length) {
        const tap = taps[0];
        let answer;
        try {
          answer = await fetch(urls.tap, {
            method: "POST", credentials: "omit", cache: "no-store",
            headers: {"Content-Type": "application/json", "Accept": "application/json"},
            body: JSON.stringify(tap),
          });
        } catch (e) {
          setNet(false);
          return;  // no network: the taps stay, sent on "online" or the next poll
        }
        setNet(true);
        if (answer.status === 429 || answer.status >= 500) return;  // try again later, same ids
        taps = queue();
        const sent = taps.findIndex((t) => t.tap === tap.tap);
        if (sent >= 0) taps.splice(sent, 1);  // this copy only: another copy is sent, and repeated, next
        save(taps);
        if (!answer.ok) {
          const refusal = await answer.json().catch(() => ({detail: "refused"}));
          await poll(true);
          const el = card(tap.order_id);
          const why = el && el.querySelector("[data-why]");
          if (why) { why.textContent = `Not sent: ${refusal.detail}.`; why.hidden = false; }
        }
      }
      await poll(true);
    } finally {
      flushing = false;
      showQueue();
    }
  }

  async function poll(force) {
    let answer;
    try {
      answer = await fetch(urls.orders, {
        cache: "no-store", credentials: "omit",
        headers: force || !etag ? {} : {"If-None-Match": etag},
      });
    } catch (e) {
      setNet(false);
      return;
    }
    setNet(true);
    if (answer.status === 200) {
      etag = answer.headers.get("ETag");
      list.innerHTML = await answer.text();
      showQueue();
    } else if (answer.status === 404) {
      location.reload();  // the link was revoked: show the page that says so
    }
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-next-status]");
    if (!button) return;
    const el = button.closest("[data-order-id]");
    const taps = queue();
    taps.push({tap: newId(), order_id: el.dataset.orderId, status: button.dataset.nextStatus});
    save(taps);
    el.querySelector("[data-why]") && (el.querySelector("[data-why]").hidden = true);
    showQueue();
    flush();
  });

  window.addEventListener("online", () => { setNet(true); flush(); });
  window.addEventListener("offline", () => setNet(false));
  setInterval(() => { queue().length ? flush() : poll(false); }, Number(body.dataset.pollSeconds) * 1000);

  // Position, with consent: remembered for this link, sent while the page is open.
  const share = document.getElementById("share-position");
  const shareState = document.getElementById("position-state");
  let watching = null;
  let last = null;
  function sendPosition() {
    if (!last) return;
    fetch(urls.position, {
      method: "POST", credentials: "omit",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify({latitude: last.coords.latitude, longitude: last.coords.longitude}),
    }).then((r) => { if (r.ok) shareState.textContent = `Location shared at ${new Date().toLocaleTimeString()}.`; })
      .catch(() => {});
  }
  function startSharing() {
    if (!navigator.geolocation || watching !== null) return;
    share.dataset.sharing = "yes";
    share.textContent = "Stop sharing my location";
    watching = navigator.geolocation.watchPosition((p) => {
      const first = last === null;
      last = p;
      if (first) sendPosition();
    }, (error) => { shareState.textContent = `Location not available: ${error.message}`; },
    {enableHighAccuracy: true, maximumAge: 15000});
    localStorage.setItem(SHARE, "yes");
  }
  function stopSharing() {
    if (watching !== null) navigator.geolocation.clearWatch(watching);
    watching = null; last = null;
    share.dataset.sharing = "no";
    share.textContent = "Share my location";
    shareState.textContent = "Not sharing your location.";
    localStorage.removeItem(SHARE);
  }
  share.addEventListener("click", () => (watching === null ? startSharing() : stopSharing()));
  setInterval(() => { if (watching !== null) sendPosition(); }, Number(body.dataset.positionSeconds) * 1000);
  if (localStorage.getItem(SHARE) === "yes") startSharing();

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(body.dataset.swUrl, {scope: "/c/"}).catch(() => {});
  }

  window.passlineCourier = {queue, flush, poll};
  setNet(navigator.onLine);
  showQueue();
  if (queue().length) flush();
})();
