// The courier page's service worker (served as /c/sw.js, scope /c/): the page and its files
// open with no network, from the copy kept when they last loaded. Network first, so a phone
// online always sees the latest; taps (POST) are never cached: the page queues them itself.
const CACHE = "passline-courier-v1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  const page = request.mode === "navigate" && url.pathname.startsWith("/c/");
  const asset = url.pathname.startsWith("/static/courier/");
  if (!page && !asset) return;  // the order list poll goes straight to the network
  event.respondWith(
    fetch(request).then((answer) => {
      if (answer.ok) {
        const copy = answer.clone();
        caches.open(CACHE).then((cache) => cache.put(request, copy));
      }
      return answer;
    }).catch(() => caches.match(request).then((kept) => kept || Response.error()))
  );
});
