// A unit's workspace: its reports sorted by deadline. The selected report comes first (what the
// citizen wrote, photos, map, deadlines, timeline; leaders' directives stand out), then only the
// steps its status allows, in the order of the work: start, answer, resolve, hand back. A sent
// form clears and closes, and the status line says what was done. Above the reports, the leaders'
// directives the unit owns, overdue first, each marked done with what was done (D: the first). Live.
(function () {
  "use strict";
  const { config, T, el, when, duration, flash, keyHint, screen, keys, connect } = window.IOC.staff;
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

  // --- directives: the unit's open ones, nearest due first (so the overdue come first) -----------
  const directives = (function () {
    const section = document.getElementById("directives");
    const list = document.getElementById("directive-list");
    const count = document.getElementById("directives-count");
    const status = document.getElementById("workspace-status");
    const items = new Map();
    let loaded = false;
    let opened = null;  // the directive whose "done" form is open
    section.querySelector("h2").after(keyHint("D", T.directiveKey));

    const ordered = () => [...items.values()].sort((a, b) => a.due_at.localeCompare(b.due_at) || a.id - b.id);

    function doneForm(item) {
      const form = el("form", "directive-done");
      const id = "directive-note-" + item.id;
      const label = el("label", "", T.doneNote);
      label.htmlFor = id;
      const note = el("textarea");
      Object.assign(note, { id, name: "note", rows: 2, maxLength: 2000 });
      const send = el("button", "step-button", T.markDone);
      send.type = "submit";
      form.append(label, note, send);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        send.disabled = true;
        flash(status, T.working);
        try {
          const response = await window.IOC.api("POST", section.dataset.url.split("?")[0] + item.id + "/done/", { note: note.value });
          if (!response.ok) {
            flash(status, window.IOC.errorText(response.data, T.failed), response.status === 409 ? "conflict" : "error");
            if (response.status === 409) load();
            return;
          }
          flash(status, T.directiveDone.replace("%s", item.subject_label), "ok");
          opened = null;
          apply({ type: "ioc.directive.updated", data: response.data });
        } finally { send.disabled = false; }
      });
      return form;
    }

    function render() {
      const now = Date.now();
      const shown = ordered();
      count.textContent = shown.length;
      list.replaceChildren();
      if (!shown.length) list.appendChild(el("li", "empty", T.noDirectives));
      for (const item of shown) {
        const late = new Date(item.due_at).getTime() < now;
        const node = el("li", "directive" + (late ? " directive-overdue" : ""));
        node.dataset.id = item.id;
        const head = el("div", "directive-head");
        const subject = el("button", "directive-subject", item.subject_label);
        subject.type = "button";
        if (item.subject_type === "reports.report") {
          subject.addEventListener("click", () => { const id = Number(item.subject_id); if (work.state.items.has(id)) work.select(id); });
        }
        const due = new Date(item.due_at).getTime() - now;
        const badge = el("span", "directive-due", late ? T.overdueBy + " " + duration(due) : T.left.replace("%s", duration(due)));
        badge.title = T.due + " " + when(item.due_at);
        head.append(subject, badge);
        node.appendChild(head);
        node.appendChild(el("p", "directive-text", item.text));
        const meta = [T.due + " " + when(item.due_at)];
        if (item.issued_by) meta.push(T.directiveBy.replace("%s", item.issued_by));
        if (item.owner_name && section.dataset.unit !== item.owner) meta.push(item.owner_name);
        node.appendChild(el("span", "directive-meta", meta.join(" · ")));
        const toggle = el("button", "directive-toggle", T.markDone);
        toggle.type = "button";
        toggle.setAttribute("aria-expanded", String(opened === item.id));
        toggle.addEventListener("click", () => open(opened === item.id ? null : item.id));
        node.appendChild(toggle);
        if (opened === item.id) node.appendChild(doneForm(item));
        list.appendChild(node);
      }
    }

    function open(id) {
      opened = id;
      render();
      const field = id !== null && list.querySelector('li[data-id="' + id + '"] textarea');
      if (field) field.focus();
    }

    async function load() {
      const response = await window.IOC.api("GET", section.dataset.url);
      if (!response.ok) return;
      items.clear();
      response.data.results.forEach((item) => items.set(item.id, item));
      if (opened !== null && !items.has(opened)) opened = null;
      loaded = true;
      render();
    }

    // A directive's absolute state: an open one is shown (new or changed), a done one leaves.
    function apply(message) {
      if (message.type !== "ioc.directive.updated") return;
      const item = message.data;
      const known = items.has(item.id);
      if (item.open) items.set(item.id, item); else items.delete(item.id);
      if (!item.open && opened === item.id) opened = null;
      if (loaded && item.open && !known) flash(status, T.directiveArrived.replace("%s", item.subject_label), "new");
      render();
    }

    setInterval(render, 30000);  // time left and overdue marks follow the clock
    return { load, apply, open, first: () => (ordered()[0] || {}).id ?? null };
  })();

  keys({
    j: () => work.move(1), ArrowDown: () => work.move(1), k: () => work.move(-1), ArrowUp: () => work.move(-1),
    d: () => { const id = directives.first(); if (id !== null) directives.open(id); },
  });
  connect(work, directives);
})();
