// A unit's workspace: its reports sorted by deadline; answer with text and photos, start,
// resolve, hand back; leaders' directives stand out in the timeline. Live.
(function () {
  "use strict";
  const { config, T, el, countdown, levelBadge, renderDetail, flash, nextDeadline } = window.IOC.staff;
  const api = window.IOC.api;
  const state = { items: new Map(), selected: null };
  const list = document.getElementById("work");
  const detail = document.getElementById("work-detail");
  const forms = document.getElementById("work-forms");
  const status = document.getElementById("workspace-status");

  window.IOC.staff.clock(document.getElementById("clock"));

  function ordered() {
    return [...state.items.values()].sort((a, b) => (nextDeadline(a) || "").localeCompare(nextDeadline(b) || ""));
  }

  function render() {
    const items = ordered();
    list.replaceChildren();
    document.getElementById("work-count").textContent = items.length;
    if (!items.length) list.appendChild(el("li", "empty", T.noWork));
    for (const report of items) {
      const item = el("li", "queue-item");
      item.dataset.id = report.id;
      item.setAttribute("aria-selected", String(report.id === state.selected));
      item.appendChild(levelBadge(report.level));
      const main = el("div", "main");
      main.appendChild(el("strong", "code", report.tracking_code));
      main.appendChild(el("span", "category", report.category_name));
      main.appendChild(el("span", "unit", report.status_label + " · " + (report.address || report.unit_name)));
      item.appendChild(main);
      item.appendChild(countdown(report));
      item.addEventListener("click", () => select(report.id));
      list.appendChild(item);
    }
    if (state.selected && !state.items.has(state.selected)) select(null);
  }

  async function load() {
    const response = await api("GET", config.workUrl);
    if (!response.ok) return;
    state.items = new Map(response.data.results.map((r) => [r.id, r]));
    render();
  }

  async function select(id) {
    state.selected = id;
    list.querySelectorAll(".queue-item").forEach((n) => n.setAttribute("aria-selected", String(Number(n.dataset.id) === id)));
    forms.hidden = !id;
    if (!id) { detail.replaceChildren(el("p", "empty", T.nothingSelected)); return; }
    const response = await api("GET", config.reportUrl.replace("__id__", id));
    if (!response.ok || state.selected !== id) return;
    renderDetail(detail, response.data);
    forms.querySelector('[data-step="start"]').hidden = !["assigned", "answered"].includes(response.data.status);
  }

  async function step(name, body) {
    const id = state.selected;
    flash(status, T.working);
    const response = await api("POST", config.reportUrl.replace("__id__", id) + name + "/", body);
    if (response.ok) {
      flash(status, T.done + ": " + response.data.tracking_code + " → " + response.data.status_label, "ok");
      await load();
      if (state.items.has(id)) select(id);
      return true;
    }
    flash(status, window.IOC.errorText(response.data, T.failed), "error");
    return false;
  }

  forms.querySelectorAll("form").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = form.dataset.step;
      let body = new FormData(form);
      if (form.querySelector('input[type="file"]')) {
        // A file input left empty still sends an empty part, which the API rightly refuses.
        const files = body.getAll("photos").filter((f) => f && f.size > 0);
        body.delete("photos");
        files.forEach((f) => body.append("photos", f));
      } else {
        body = Object.fromEntries(body);
      }
      if (await step(name, body)) form.reset();
    });
  });

  // A report message may concern this unit's work or only its territory (a report located here
  // but assigned to a department), which the message alone does not tell: re-read the list.
  let reloadTimer = null;
  function apply(message) {
    if (message.type !== "reports.report.updated") return;
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(async () => {
      await load();
      if (state.selected === message.data.id && state.items.has(message.data.id)) select(message.data.id);
    }, 300);
  }

  window.IOC.live.connect({
    onState: window.IOC.staff.connectionBadge(document.getElementById("connection")),
    onConnect: load,
    onMessage: apply,
  });
  setInterval(load, 60000);
})();
