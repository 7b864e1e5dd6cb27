// Leaders' drill-down: the reports behind a wall figure, and one report with a directive form.
(function () {
  "use strict";
  const { config, T, el, flash } = window.IOC.staff;
  const { countdown, levelBadge, renderDetail, reportUrl } = window.IOC.reports;
  const api = window.IOC.api;
  const badge = window.IOC.staff.connectionBadge(document.getElementById("connection"));

  const rows = document.getElementById("report-rows");
  if (rows) {
    const load = async () => {
      const params = new URLSearchParams(window.location.search);
      params.set("limit", "200");
      const response = await api("GET", config.listUrl + "?" + params.toString());
      rows.replaceChildren();
      if (!response.ok) { rows.appendChild(el("tr", "", window.IOC.errorText(response.data, T.failed))); return; }
      if (!response.data.results.length) {
        const row = el("tr"); const cell = el("td", "empty", T.noReports); cell.colSpan = 7; row.appendChild(cell); rows.appendChild(row);
      }
      for (const report of response.data.results) {
        const row = el("tr");
        const code = el("td"); const link = el("a", "", report.tracking_code);
        link.href = config.pageUrl.replace("__id__", report.id); code.appendChild(link); row.appendChild(code);
        const level = el("td"); level.appendChild(levelBadge(report.level)); row.appendChild(level);
        row.appendChild(el("td", "", report.category_name));
        row.appendChild(el("td", "", (report.address ? report.address + " · " : "") + report.unit_name));
        row.appendChild(el("td", "", report.status_label));
        row.appendChild(el("td", "", report.assigned_unit_name || "–"));
        const due = el("td"); due.appendChild(countdown(report)); row.appendChild(due);
        rows.appendChild(row);
      }
      document.getElementById("report-more").textContent = response.data.count > 200 ? "200 / " + response.data.count : "";
    };
    window.IOC.live.connect({ onState: badge, onConnect: load, onMessage: (m) => { if (m.type === "reports.report.updated") load(); } });
    return;
  }

  const container = document.getElementById("report-detail");
  const id = container.dataset.reportId;
  const status = document.getElementById("page-status");
  const load = async () => {
    const response = await api("GET", reportUrl(id));
    if (response.ok) renderDetail(container, response.data);
    else container.replaceChildren(el("p", "empty", window.IOC.errorText(response.data, T.failed)));
  };
  const form = document.getElementById("directive-form");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const response = await api("POST", reportUrl(id) + "directive/", Object.fromEntries(new FormData(form)));
      if (response.ok) { form.reset(); flash(status, T.done, "ok"); load(); }
      else flash(status, window.IOC.errorText(response.data, T.failed), "error");
    });
  }
  window.IOC.live.connect({
    onState: badge, onConnect: load,
    onMessage: (m) => { if (m.type === "reports.report.updated" && String(m.data.id) === String(id)) load(); },
  });
})();
