/* Cerniera desk: draws the charts of a page with Chart.js (vendored, /static/vendor).
 *
 * The figures come from the page's <script type="application/json" id="cerniera-grafici">:
 * {"locale": "it-IT", "charts": {"<id>": {"type", "format", "stacked", "indexAxis", "data"}}}
 * and each chart goes on the <canvas data-grafico="<id>">. The server writes them; this file
 * only draws (no inline script, so a Content-Security-Policy can forbid inline code). The
 * canvas carries its own description (role="img", aria-label) and the same figures are in the
 * table below it: the chart is an extra for those who see it, never the only way.
 *
 * window.cernieraCharts[id] is each drawn Chart, so a browser test can read what it shows
 * (window.cernieraCharts.spesa.data.datasets[0].data).
 */
(function () {
  "use strict";

  // Distinct, dark enough for white text and 3:1 against white (WCAG 1.4.11), and told apart
  // by the legend's words and the table, not by colour alone.
  var PALETTE = ["#0b5cad", "#b35900", "#1d6b2f", "#6a3d9a", "#8a4b00", "#b00020", "#00677f"];

  function formatter(kind, locale) {
    if (kind === "money") {
      var euros = new Intl.NumberFormat(locale, { style: "currency", currency: "EUR" });
      return function (v) { return euros.format(v); };
    }
    if (kind === "percent") {
      var percent = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
      return function (v) { return percent.format(v) + " %"; };
    }
    var count = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
    return function (v) { return count.format(v); };
  }

  function config(figures, locale, still) {
    var format = formatter(figures.format, locale);
    var horizontal = figures.indexAxis === "y";
    var datasets = figures.data.datasets.map(function (set, n) {
      var colour = PALETTE[n % PALETTE.length];
      return Object.assign({}, set, {
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: 1
      });
    });
    var valueAxis = {
      beginAtZero: true,
      stacked: Boolean(figures.stacked),
      ticks: { callback: function (v) { return format(v); } }
    };
    if (figures.format === "percent") {
      valueAxis.max = 100;
    }
    var labelAxis = { stacked: Boolean(figures.stacked) };
    var drawn = {
      type: figures.type || "bar",
      data: { labels: figures.data.labels.slice(), datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        locale: locale,
        scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) {
                var value = horizontal ? item.parsed.x : item.parsed.y;
                return (item.dataset.label ? item.dataset.label + ": " : "") + format(value);
              }
            }
          }
        }
      }
    };
    if (still) {
      drawn.options.animation = false;
    }
    return drawn;
  }

  function draw() {
    var source = document.getElementById("cerniera-grafici");
    window.cernieraCharts = window.cernieraCharts || {};
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var page = JSON.parse(source.textContent || "{}");
    var locale = page.locale || document.documentElement.lang || "it-IT";
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var canvases = document.querySelectorAll("canvas[data-grafico]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var id = canvas.getAttribute("data-grafico");
      var figures = (page.charts || {})[id];
      if (!figures) {
        return;
      }
      window.cernieraCharts[id] = new window.Chart(canvas, config(figures, locale, still));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
