// Vigil dashboard charts: reads the JSON block #trend-data (written by the
// server, no inline script) and draws the 30-day trends with uPlot into the
// .chart[data-chart] elements. Without JavaScript the table beside them
// shows the same figures.
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("trend-data");
    if (!el || typeof uPlot === "undefined") {
      return;
    }
    var d;
    try {
      d = JSON.parse(el.textContent);
    } catch (e) {
      return;
    }
    if (!d.days || d.days.length === 0) {
      return;
    }
    // Colours match the severity badges; series also differ by dash
    // pattern, so colour is not the only signal.
    var specs = {
      findings: {
        data: [d.days, d.critical, d.high, d.medium, d.low, d.kev],
        series: [
          {},
          { label: "Critical", stroke: "#9f1239", width: 2 },
          { label: "High", stroke: "#c2410c", width: 2, dash: [8, 4] },
          { label: "Medium", stroke: "#a16207", width: 2, dash: [3, 3] },
          { label: "Low", stroke: "#1d4ed8", width: 2, dash: [1, 3] },
          { label: "KEV", stroke: "#111827", width: 2, dash: [12, 3, 2, 3] }
        ]
      },
      score: {
        data: [d.days, d.score],
        series: [{}, { label: "Score %", stroke: "#15803d", width: 2, spanGaps: true }],
        scales: { y: { range: [0, 100] } }
      },
      scanned: {
        data: [d.days, d.scanned],
        series: [{}, { label: "Hosts scanned", stroke: "#334155", fill: "rgba(51,65,85,0.25)", width: 1,
          paths: uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined }]
      }
    };
    var charts = [];
    document.querySelectorAll(".chart[data-chart]").forEach(function (box) {
      var spec = specs[box.getAttribute("data-chart")];
      if (!spec) {
        return;
      }
      var opts = {
        width: Math.max(240, box.clientWidth || 320),
        height: 200,
        series: spec.series,
        scales: Object.assign({ x: { time: true } }, spec.scales || {}),
        axes: [{}, { size: 48 }],
        legend: { live: true }
      };
      charts.push({ box: box, plot: new uPlot(opts, spec.data, box) });
    });
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () {
        charts.forEach(function (c) {
          c.plot.setSize({ width: Math.max(240, c.box.clientWidth || 320), height: 200 });
        });
      }, 150);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
