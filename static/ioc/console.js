// The operator's console: the triage queue and the open alerts, live, worked from the keyboard.
//   j/k or arrows: move · a: accept · 1/2/3: accept as urgent/complex/normal · g: assign to the
//   suggested unit · u: choose another unit · r: reject · d: duplicate of a suggestion
//   n/p: next/previous alert · e: acknowledge · x: resolve · Esc: cancel · ?: help
(function () {
  "use strict";
  const { config, T, el, when, countdown, levelBadge, renderDetail, flash } = window.IOC.staff;
  const api = window.IOC.api;
  const state = { queue: new Map(), selected: null, detail: null, suggestions: [], alerts: new Map(), alert: null };
  const queueList = document.getElementById("queue");
  const panel = document.getElementById("triage");
  const alertList = document.getElementById("alerts");
  const status = document.getElementById("console-status");
  const unitSelect = document.getElementById("assign-unit");
  const prompt = document.getElementById("prompt");
  const QUEUED = ["received", "accepted"];

  window.IOC.staff.clock(document.getElementById("clock"));

  // --- queue ------------------------------------------------------------------------------------
  function ordered() {
    return [...state.queue.values()].sort((a, b) =>
      (a.level === "urgent" ? 0 : 1) - (b.level === "urgent" ? 0 : 1) || a.received_at.localeCompare(b.received_at));
  }

  function renderQueue() {
    const items = ordered();
    queueList.replaceChildren();
    document.getElementById("queue-count").textContent = items.length;
    if (!items.length) queueList.appendChild(el("li", "empty", T.queueEmpty));
    for (const report of items) {
      const item = el("li", "queue-item");
      item.dataset.id = report.id;
      item.tabIndex = -1;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", String(report.id === state.selected));
      item.appendChild(levelBadge(report.level));
      const main = el("div", "main");
      main.appendChild(el("strong", "code", report.tracking_code));
      main.appendChild(el("span", "category", report.category_name));
      main.appendChild(el("span", "unit", report.unit_name + (report.status === "accepted" ? " · " + T.toAssign : "")
        + (report.returned ? " · " + T.returned : "")));
      item.appendChild(main);
      item.appendChild(countdown(report));
      item.addEventListener("click", () => select(report.id));
      queueList.appendChild(item);
    }
    if (state.selected && !state.queue.has(state.selected)) {
      select(items.length ? items[0].id : null);
    } else if (!state.selected && items.length) {
      select(items[0].id);
    }
  }

  async function loadQueue() {
    const response = await api("GET", config.queueUrl);
    if (!response.ok) return;
    state.queue = new Map(response.data.results.map((r) => [r.id, r]));
    renderQueue();
  }

  async function select(id) {
    state.selected = id;
    queueList.querySelectorAll(".queue-item").forEach((n) => n.setAttribute("aria-selected", String(Number(n.dataset.id) === id)));
    const current = queueList.querySelector('.queue-item[aria-selected="true"]');
    if (current) current.scrollIntoView({ block: "nearest" });
    closePrompt();
    if (!id) { panel.replaceChildren(el("p", "empty", T.nothingSelected)); return; }
    const [detail, suggestions] = await Promise.all([
      api("GET", config.reportUrl.replace("__id__", id)), api("GET", config.duplicatesUrl.replace("__id__", id)),
    ]);
    if (state.selected !== id || !detail.ok) return;
    state.detail = detail.data;
    state.suggestions = suggestions.ok ? suggestions.data : [];
    renderPanel();
  }

  function suggestedUnit(report) {
    return report.suggested_unit || report.unit;
  }

  function renderPanel() {
    const report = state.detail;
    renderDetail(panel, report);
    const actions = el("div", "actions");
    const hint = (key, text) => { const b = el("span", "key-hint"); b.appendChild(el("kbd", "", key)); b.appendChild(document.createTextNode(" " + text)); return b; };
    if (report.status === "received") {
      actions.appendChild(hint("A", T.accept));
      actions.appendChild(hint("1/2/3", T.acceptAs));
    }
    actions.appendChild(hint("G", T.assignTo + " " + unitName(suggestedUnit(report))));
    actions.appendChild(hint("U", T.otherUnit));
    actions.appendChild(hint("R", T.reject));
    if (state.suggestions.length) actions.appendChild(hint("D", T.duplicate + " (" + state.suggestions.length + ")"));
    panel.prepend(actions);
    if (state.suggestions.length) {
      const box = el("div", "suggestions");
      box.appendChild(el("h3", "", T.similar));
      const list = el("ol");
      state.suggestions.forEach((s) => {
        list.appendChild(el("li", "", s.tracking_code + " · " + s.status_label + " · " + s.distance_m + " m · " + when(s.received_at)));
      });
      box.appendChild(list);
      panel.appendChild(box);
      drawMap(box, report, state.suggestions);
    }
    unitSelect.value = suggestedUnit(report);
  }

  function drawMap(container, report, suggestions) {
    if (!window.L || report.latitude === null) return;
    const node = el("div", "mini-map");
    container.appendChild(node);
    const map = window.L.map(node, { zoomControl: false, attributionControl: false }).setView([report.latitude, report.longitude], 17);
    window.L.tileLayer(config.tilesUrl, { maxZoom: 19 }).addTo(map);
    window.L.circleMarker([report.latitude, report.longitude], { radius: 8, color: "#d93025" }).addTo(map);
    suggestions.forEach((s, i) => {
      if (s.latitude !== null) window.L.circleMarker([s.latitude, s.longitude], { radius: 6, color: "#1a73e8" }).bindTooltip(String(i + 1)).addTo(map);
    });
  }

  function unitName(code) {
    const option = [...unitSelect.options].find((o) => o.value === code);
    return option ? option.textContent : code;
  }

  async function loadUnits() {
    const response = await api("GET", config.unitsUrl);
    if (!response.ok) return;
    unitSelect.replaceChildren();
    for (const unit of response.data.results) {
      const option = el("option", "", unit.name);
      option.value = unit.code;
      unitSelect.appendChild(option);
    }
  }

  // --- steps ------------------------------------------------------------------------------------
  async function step(name, body) {
    const id = state.selected;
    if (!id) return;
    flash(status, T.working);
    const response = await api("POST", config.reportUrl.replace("__id__", id) + name + "/", body || {});
    if (response.ok) {
      flash(status, T.done + ": " + response.data.tracking_code + " → " + response.data.status_label, "ok");
      apply({ type: "reports.report.updated", data: response.data });
      if (state.selected === id && state.queue.has(id)) select(id);
    } else {
      flash(status, window.IOC.errorText(response.data, T.failed), response.status === 409 ? "conflict" : "error");
      if (response.status === 409) loadQueue();
    }
  }

  function ask(label, value, onConfirm) {
    prompt.hidden = false;
    prompt.querySelector("label").textContent = label;
    const input = prompt.querySelector("input");
    input.value = value;
    input.focus();
    input.select();
    prompt.onsubmit = (event) => { event.preventDefault(); const text = input.value.trim(); closePrompt(); if (text) onConfirm(text); };
  }

  function closePrompt() {
    prompt.querySelector("input").blur();  // give the keys back to the console
    prompt.hidden = true;
    prompt.onsubmit = null;
  }

  // --- alerts -----------------------------------------------------------------------------------
  const rank = { critical: 0, warning: 1, info: 2 };
  function renderAlerts() {
    const open = [...state.alerts.values()].sort((a, b) => rank[a.severity] - rank[b.severity] || b.last_seen_at.localeCompare(a.last_seen_at));
    alertList.replaceChildren();
    document.getElementById("alert-count").textContent = open.length;
    if (!open.length) alertList.appendChild(el("li", "empty", T.noAlerts));
    for (const alert of open) {
      const item = el("li", "alert alert-" + alert.severity + " alert-" + alert.state);
      item.dataset.id = alert.id;
      item.setAttribute("aria-selected", String(alert.id === state.alert));
      item.appendChild(el("strong", "", alert.title + (alert.count > 1 ? " ×" + alert.count : "")));
      item.appendChild(el("span", "meta", alert.unit_name + " · " + when(alert.last_seen_at) + " · " + (T.alertStates[alert.state] || alert.state)));
      item.addEventListener("click", () => { state.alert = alert.id; renderAlerts(); });
      alertList.appendChild(item);
    }
    const critical = open.filter((a) => a.severity === "critical" && a.state === "open").length;
    document.title = (critical ? "(" + critical + ") " : "") + T.title;
  }

  async function loadAlerts() {
    const response = await api("GET", config.alertsUrl);
    if (!response.ok) return;
    state.alerts = new Map(response.data.results.map((a) => [a.id, a]));
    renderAlerts();
  }

  function moveAlert(delta) {
    const ids = [...alertList.querySelectorAll(".alert")].map((n) => Number(n.dataset.id));
    if (!ids.length) return;
    const at = ids.indexOf(state.alert);
    state.alert = ids[Math.max(0, Math.min(ids.length - 1, at + delta))];
    renderAlerts();
  }

  async function alertStep(name) {
    if (!state.alert) return;
    const response = await api("POST", config.alertUrl.replace("__id__", state.alert) + name + "/", {});
    if (response.ok) { applyAlert(response.data); flash(status, T.done, "ok"); }
    else flash(status, window.IOC.errorText(response.data, T.failed), "error");
  }

  function applyAlert(alert) {
    if (alert.state === "resolved") state.alerts.delete(alert.id); else state.alerts.set(alert.id, alert);
    renderAlerts();
  }

  // --- live -------------------------------------------------------------------------------------
  function apply(message) {
    if (message.type === "reports.report.updated") {
      const report = message.data;
      const known = state.queue.get(report.id);
      if (QUEUED.includes(report.status)) state.queue.set(report.id, report);
      else state.queue.delete(report.id);
      renderQueue();
      if (!known && QUEUED.includes(report.status)) flash(status, T.newReport + " " + report.tracking_code, "new");
    } else if (message.type === "ioc.alert.updated") {
      applyAlert(message.data);
    }
  }

  window.IOC.live.connect({
    onState: window.IOC.staff.connectionBadge(document.getElementById("connection")),
    onConnect: () => { loadQueue(); loadAlerts(); },
    onMessage: apply,
  });
  setInterval(() => { loadQueue(); loadAlerts(); }, 60000);
  loadUnits();

  // --- keyboard ---------------------------------------------------------------------------------
  function move(delta) {
    const ids = ordered().map((r) => r.id);
    if (!ids.length) return;
    const at = ids.indexOf(state.selected);
    select(ids[Math.max(0, Math.min(ids.length - 1, at + delta))]);
  }

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { closePrompt(); unitSelect.blur(); return; }
    const target = event.target;
    if (target === unitSelect && event.key === "Enter") {
      event.preventDefault(); unitSelect.blur(); step("assign", { unit: unitSelect.value }); return;
    }
    if (["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) || event.ctrlKey || event.metaKey || event.altKey) return;
    const report = state.detail;
    const keys = {
      j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1),
      a: () => report && report.status === "received" && step("accept", {}),
      1: () => step("accept", { level: "urgent" }),
      2: () => step("accept", { level: "complex" }),
      3: () => step("accept", { level: "normal" }),
      g: () => report && step("assign", { unit: suggestedUnit(report) }),
      u: () => unitSelect.focus(),
      r: () => ask(T.rejectReason, T.defaultRejectReason, (reason) => step("reject", { reason })),
      d: () => state.suggestions.length && ask(T.duplicateOf, "1", (n) => {
        const parent = state.suggestions[Number(n) - 1];
        if (parent) step("duplicate", { parent: parent.id });
      }),
      n: () => moveAlert(1), p: () => moveAlert(-1),
      e: () => alertStep("acknowledge"), x: () => alertStep("resolve"),
      "?": () => { const help = document.getElementById("help"); help.hidden = !help.hidden; },
    };
    const handler = keys[event.key];
    if (handler) { event.preventDefault(); handler(); }
  });
})();
