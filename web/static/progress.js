// Live progress: refresh the progress table's bars every few seconds from the JSON API.
(function () {
  "use strict";
  const table = document.querySelector("table.progress");
  if (!table) return;
  const url = table.dataset.progressUrl;
  const fmt = new Intl.NumberFormat(document.documentElement.lang || undefined);
  async function refresh() {
    try {
      const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!res.ok) return;
      const data = await res.json();
      for (const g of data.groups) {
        const row = table.querySelector(`tr[data-group="${CSS.escape(g.key)}"]`);
        if (!row) continue;
        const final = row.querySelector("progress.final");
        final.max = g.responses || 1; final.value = g.final;
        const pct = g.responses ? (100 * g.final / g.responses).toFixed(1) : "0.0";
        row.querySelector(".final-text").textContent = `${fmt.format(g.final)} (${pct}%)`;
        const marks = row.querySelector("progress.marks");
        marks.max = g.marks_needed || 1; marks.value = g.marks_given;
        row.querySelector(".marks-text").textContent = `${fmt.format(g.marks_given)} / ${fmt.format(g.marks_needed)}`;
        row.querySelector(".anomaly").textContent = fmt.format(g.anomaly);
        row.querySelector(".arbitration").textContent = fmt.format(g.arbitration);
      }
      const open = document.querySelector(".open-anomalies");
      if (open) open.textContent = fmt.format(data.open_anomalies);
    } catch (e) { /* offline for a moment: try again next time */ }
  }
  setInterval(refresh, 5000);
})();
