// Times in the viewer's own time zone (templates/staff/_times.html): each
// <time data-viewer-time datetime="…Z"> the server wrote in UTC is shown as
// "2026-12-08 03:04:05 CST", the same shape as the UTC text, so a log lines up with the
// reader's clock; its title keeps the UTC time. The [data-viewer-zone] note names the zone.
// Run on load and on every piece htmx swaps in (filters, older pages, a receipt's body).
(function () {
  "use strict";
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  var format = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short"
  });

  function shown(date) {
    var part = {};
    format.formatToParts(date).forEach(function (p) { part[p.type] = p.value; });
    return part.year + "-" + part.month + "-" + part.day + " " + part.hour + ":" + part.minute + ":" +
      part.second + " " + part.timeZoneName;
  }

  function within(root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) found.unshift(root);
    return found;
  }

  htmx.onLoad(function (root) {
    within(root, "time[data-viewer-time]").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (!isNaN(date.getTime())) el.textContent = shown(date);
    });
    within(root, "[data-viewer-zone]").forEach(function (el) {
      el.textContent = "Times in your time zone, " + zone + "; hover one for UTC.";
    });
  });
})();
