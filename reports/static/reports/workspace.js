// A unit's workspace: its reports sorted by deadline. The selected report comes first (what the
// citizen wrote, photos, map, deadlines, timeline; leaders' directives stand out), then only the
// steps its status allows, in the order of the work: start, answer, resolve, hand back. A sent
// form clears and closes, and the status line says what was done. Live.
(function () {
  "use strict";
  const { config, T, el, screen, keys, connect } = window.IOC.staff;
  const reports = window.IOC.reports;
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  const allowed = read("workspace-steps");  // step -> the statuses it starts from (reports.services.STEPS)
  const text = read("workspace-text");
  const detail = document.getElementById("work-detail");
  const actions = document.getElementById("work-actions");
  const openers = [...actions.querySelectorAll("[data-opens]")];
  const forms = [...actions.querySelectorAll("form[data-step]")];
  const byDeadline = (a, b) => (reports.nextDeadline(a) || "").localeCompare(reports.nextDeadline(b) || "");
  let taken = null;  // the step being sent, for the sentence saying what was done
  let shown = null;  // the report the step buttons are for
  let map = null;

  function closeForms() {
    forms.forEach((form) => { form.hidden = true; });
    openers.forEach((button) => button.setAttribute("aria-expanded", "false"));
  }

  function open(name) {
    const form = actions.querySelector('form[data-step="' + name + '"]');
    const wasOpen = !form.hidden;
    closeForms();
    if (wasOpen) return;
    form.hidden = false;
    actions.querySelector('[data-opens="' + name + '"]').setAttribute("aria-expanded", "true");
    const field = form.querySelector("textarea, input:not([type=file])");
    if (field) field.focus();
  }

  // Where the report is, under its photos and before the answers and timeline.
  function drawMap(report) {
    if (map) { map.remove(); map = null; }
    if (!window.L || report.latitude === null || report.latitude === undefined) return;
    const node = el("div", "mini-map");
    const after = detail.querySelector("h3");
    if (after) detail.insertBefore(node, after); else detail.appendChild(node);
    map = window.L.map(node, { zoomControl: false, attributionControl: false }).setView([report.latitude, report.longitude], 17);
    window.L.tileLayer(config.tilesUrl, { maxZoom: 19 }).addTo(map);
    window.L.circleMarker([report.latitude, report.longitude], { radius: 8, color: "#d93025" }).addTo(map);
  }

  function showSteps(report) {
    let any = false;
    actions.querySelectorAll(".step-buttons [data-step], .step-buttons [data-opens]").forEach((button) => {
      const name = button.dataset.step || button.dataset.opens;
      button.hidden = !(allowed[name] || []).includes(report.status);
      any = any || !button.hidden;
    });
    actions.hidden = false;
    let none = actions.querySelector(".no-step");
    if (!none) { none = el("p", "no-step empty", text.noStep); actions.querySelector(".step-buttons").after(none); }
    none.hidden = any;
    // A form left open for a step the report no longer allows closes.
    forms.forEach((form) => { if (!(allowed[form.dataset.step] || []).includes(report.status)) form.hidden = true; });
  }

  const work = screen({
    list: document.getElementById("work"), count: document.getElementById("work-count"),
    status: document.getElementById("workspace-status"), empty: T.noWork,
    listUrl: config.workUrl, itemUrl: reports.reportUrl, stepUrl: (id, name) => reports.reportUrl(id) + name + "/",
    order: byDeadline, autoSelect: false,
    describe: (report) => (text.done[taken] || "{code}: {status}")
      .replace("{code}", report.tracking_code).replace("{status}", report.status_label),
    // A report message may concern this unit's work or only its territory (a report located here
    // but assigned to a department), which the message alone does not tell: re-read the list.
    liveType: "reports.report.updated", reloadOnLive: true,
    renderItem: (report, node) => reports.renderItem(report, node, report.status_label + " · " + (report.address || report.unit_name)),
    onSelect: (id) => {
      if (id !== shown) { closeForms(); shown = id; }  // a form opened for another report closes
      if (!id) actions.hidden = true;
    },
    renderDetail: (report) => {
      if (!report) { if (map) { map.remove(); map = null; } detail.replaceChildren(el("p", "empty", T.nothingSelected)); actions.hidden = true; return; }
      reports.renderDetail(detail, report);
      drawMap(report);
      showSteps(report);
    },
  });

  async function take(name, body) {
    taken = name;
    const done = await work.step(name, body);
    taken = null;
    return done;
  }

  actions.querySelector('[data-step="start"]').addEventListener("click", () => take("start"));
  openers.forEach((button) => button.addEventListener("click", () => open(button.dataset.opens)));

  forms.forEach((form) => {
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
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      try {
        if (await take(form.dataset.step, body)) { form.reset(); closeForms(); }
      } finally { button.disabled = false; }
    });
  });

  keys({ j: () => work.move(1), ArrowDown: () => work.move(1), k: () => work.move(-1), ArrowUp: () => work.move(-1) });
  connect(work);
})();
