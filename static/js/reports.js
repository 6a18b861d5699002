// Draws the timing report's charts from the JSON block the page carries
// (<script type="application/json" id="report-charts">), one per <canvas data-chart="key">.
// No inline script: the CSP allows only files from this origin.
(function () {
  "use strict";

  // Measures (counts, minutes) in colours that mean nothing: green, red and orange are
  // outcomes (completed, rejected, cancelled), and a median drawn in red would read as one.
  var PALETTE = ["#2563eb", "#64748b", "#8b5cf6", "#0891b2", "#1e3a8a", "#94a3b8"];

  // An order state's colour: the board's own (--c-<state> in app.css), defined once.
  function stateColour(state) {
    var colour = getComputedStyle(document.documentElement).getPropertyValue("--c-" + state).trim();
    return colour || "#94a3b8";
  }

  function options(spec) {
    if (spec.type === "doughnut") {
      return { responsive: true, maintainAspectRatio: false, animation: false,
               plugins: { legend: { position: "right" } } };
    }
    // Counts are whole orders: no 0.5 ticks on an axis of counts.
    function axis(id, extra) {
      var counts = spec.datasets.some(function (d) { return (d.yAxisID || "y") === id && d.kind === "count"; });
      var scale = Object.assign({ beginAtZero: true }, extra);
      if (counts) scale.ticks = { precision: 0 };
      return scale;
    }
    var scales = { y: axis("y") };
    var hasRight = spec.datasets.some(function (d) { return d.yAxisID === "y2"; });
    if (hasRight) {
      scales.y2 = axis("y2", { position: "right", grid: { drawOnChartArea: false } });
    }
    if (spec.horizontal) {
      scales = { x: axis("y") };
    }
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false, // a report is read, not watched
      indexAxis: spec.horizontal ? "y" : "x",
      interaction: { mode: "index", intersect: false },
      scales: scales,
    };
  }

  function datasets(spec) {
    return spec.datasets.map(function (d, i) {
      var colour = PALETTE[i % PALETTE.length];
      var set = { label: d.label, data: d.data, backgroundColor: colour, borderColor: colour };
      if (spec.type === "doughnut") {
        set.backgroundColor = spec.states ? spec.states.map(stateColour)
          : d.data.map(function (_, j) { return PALETTE[j % PALETTE.length]; });
        set.borderColor = "#fff";
        return set;
      }
      set.type = d.type;
      if (!spec.horizontal) { set.yAxisID = d.yAxisID; }
      if (d.type === "line") { set.tension = 0.2; set.spanGaps = false; set.fill = false; }
      return set;
    });
  }

  function draw() {
    var block = document.getElementById("report-charts");
    if (!block || typeof window.Chart === "undefined") { return; }
    var specs = JSON.parse(block.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = specs[canvas.dataset.chart];
      if (!spec) { return; }
      new window.Chart(canvas, {
        type: spec.type === "doughnut" ? "doughnut" : "bar",
        data: { labels: spec.labels, datasets: datasets(spec) },
        options: options(spec),
      });
      canvas.dataset.drawn = "true"; // a hook for tests: the chart was built
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
