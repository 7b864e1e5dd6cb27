// A unit's workspace: its reports sorted by deadline; answer with text and photos, start,
// resolve, hand back; leaders' directives stand out in the timeline. Live.
(function () {
  "use strict";
  const { config, T, el, screen, keys, connect } = window.IOC.staff;
  const reports = window.IOC.reports;
  const detail = document.getElementById("work-detail");
  const forms = document.getElementById("work-forms");
  const byDeadline = (a, b) => (reports.nextDeadline(a) || "").localeCompare(reports.nextDeadline(b) || "");

  const work = screen({
    list: document.getElementById("work"), count: document.getElementById("work-count"),
    status: document.getElementById("workspace-status"), empty: T.noWork,
    listUrl: config.workUrl, itemUrl: reports.reportUrl, stepUrl: (id, name) => reports.reportUrl(id) + name + "/",
    order: byDeadline, autoSelect: false, describe: reports.describe,
    // A report message may concern this unit's work or only its territory (a report located here
    // but assigned to a department), which the message alone does not tell: re-read the list.
    liveType: "reports.report.updated", reloadOnLive: true,
    renderItem: (report, node) => reports.renderItem(report, node, report.status_label + " · " + (report.address || report.unit_name)),
    onSelect: (id) => { forms.hidden = !id; },
    renderDetail: (report) => {
      if (!report) { detail.replaceChildren(el("p", "empty", T.nothingSelected)); return; }
      reports.renderDetail(detail, report);
      forms.querySelector('[data-step="start"]').hidden = !["assigned", "answered"].includes(report.status);
    },
  });

  forms.querySelectorAll("form").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      let body = new FormData(form);
      if (form.querySelector('input[type="file"]')) {
        // A file input left empty still sends an empty part, which the API rightly refuses.
        const files = body.getAll("photos").filter((f) => f && f.size > 0);
        body.delete("photos");
        files.forEach((f) => body.append("photos", f));
      } else {
        body = Object.fromEntries(body);
      }
      if (await work.step(form.dataset.step, body)) form.reset();
    });
  });

  keys({ j: () => work.move(1), ArrowDown: () => work.move(1), k: () => work.move(-1), ArrowUp: () => work.move(-1) });
  connect(work);
})();
