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

// Scan batches: refresh each batch's tally and its files' progress from the office's JSON
// while anything is still being read or waits in quarantine (reading runs apart from the
// page: in-process today, `blindmark worker` later), so the office never has to reload.
(function () {
  "use strict";
  const table = document.querySelector("table.scans");
  if (!table) return;
  const url = table.dataset.scansUrl;
  const fmt = new Intl.NumberFormat(document.documentElement.lang || undefined);
  const COUNTS = ["pages_received", "sheets_complete", "scripts", "pages_quarantined",
    "exam_numbers_quarantined", "rows_verified", "boxes_cut", "open_items"];
  let timer = null;
  function showFile(item, f) {
    const bar = item.querySelector("progress");
    bar.max = f.page_count || f.pages_done || 1; bar.value = f.pages_done;
    item.querySelector(".pages").textContent = f.page_count === null
      ? fmt.format(f.pages_done) : `${fmt.format(f.pages_done)} / ${fmt.format(f.page_count)}`;
    item.querySelector(".file-state").textContent = f.state_text;
    let error = item.querySelector(".file-error");
    if (f.error && !error) {
      error = document.createElement("span"); error.className = "file-error"; item.append(" ", error);
    }
    if (error) error.textContent = f.error || "";
  }
  async function refresh() {
    try {
      const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!res.ok) return;
      const data = await res.json();
      let busy = false;
      for (const b of data.batches) {
        const row = table.querySelector(`tr[data-batch="${b.batch}"]`);
        if (!row) continue;
        for (const name of COUNTS) {
          const cell = row.querySelector(`.${name}`);
          if (cell) cell.textContent = fmt.format(b[name]);
        }
        row.querySelector(".state").textContent = b.state_text;
        for (const f of b.files) {
          const item = row.querySelector(`li[data-file="${f.id}"]`);
          if (item) showFile(item, f);
          if (f.state === "queued" || f.state === "reading") busy = true;
        }
        if (b.state === "open") busy = true;
      }
      if (!busy && timer !== null) { clearInterval(timer); timer = null; }
    } catch (e) { /* offline for a moment: try again next time */ }
  }
  timer = setInterval(refresh, 3000);
})();
