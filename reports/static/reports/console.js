// The operator's console: the triage queue and the open alerts, live, worked from the keyboard.
//   j/k or arrows: move (the next page loads on the way down) · s: take the triage suggestion
//   (accept with its category and level, assign to its unit) · a: accept · 1/2/3: accept as
//   urgent/complex/normal · g: assign to the suggested unit · u: choose another unit · r: reject
//   d: duplicate of a similar report · n/p: next/previous alert · e: acknowledge · x: resolve
//   Esc: cancel · ?: help. After a step the report below the one acted on is selected.
(function () {
  "use strict";
  const { config, T, el, when, flash, keyHint, screen, keys, connect } = window.IOC.staff;
  const reports = window.IOC.reports;
  const api = window.IOC.api;
  const panel = document.getElementById("triage");
  const status = document.getElementById("console-status");
  const unitSelect = document.getElementById("assign-unit");
  const prompt = document.getElementById("prompt");
  const QUEUED = ["received", "accepted"];  // reports.selectors.QUEUE_STATUSES
  const PAGE = 100;
  const filters = document.getElementById("queue-filters");
  let suggestions = [];

  // The server's order (reports.selectors.triage_queue), for the reports that arrive live: urgent
  // first, then the least share of the deadline window left (none last), then the oldest, then the id.
  function needsActionFirst(a, b) {
    const now = Date.now();
    const share = (r) => { const s = reports.timeLeftShare(r, now); return s === null ? Infinity : s; };
    return (a.level === "urgent" ? 0 : 1) - (b.level === "urgent" ? 0 : 1) ||
      share(a) - share(b) || a.received_at.localeCompare(b.received_at) || a.id - b.id;
  }

  // The chosen filters as the API's query (it checks them); none chosen: the whole queue.
  function filterQuery() {
    const query = new URLSearchParams();
    for (const [name, value] of new FormData(filters)) if (value) query.set(name, value);
    return query.toString();
  }
  const filtered = () => filterQuery() !== "";

  const queue = screen({
    list: document.getElementById("queue"), count: document.getElementById("queue-count"), status,
    more: document.getElementById("queue-more"), pageSize: PAGE, afterStep: "next",
    empty: T.queueEmpty, listUrl: () => config.queueUrl + (filtered() ? "?" + filterQuery() : ""), itemUrl: reports.reportUrl,
    stepUrl: (id, name) => reports.reportUrl(id) + name + "/",
    // With filters on, whether a report still belongs is the server's to say (unit subtree, channel).
    reloadOnLive: filtered,
    order: needsActionFirst, keep: (report) => QUEUED.includes(report.status), liveType: "reports.report.updated",
    describe: reports.describe,
    renderItem: (report, node) => reports.renderItem(report, node, report.unit_name +
      (report.status === "accepted" ? " · " + T.toAssign : "") + (report.returned ? " · " + T.returned : "")),
    onSelect: closePrompt,
    renderDetail: (report) => { suggestions = []; if (report) { renderPanel(report); loadSuggestions(report); } else showNothing(); },
    onArrival: (report) => flash(status, T.newReport + " " + report.tracking_code, "new"),
  });

  function showNothing() { panel.replaceChildren(el("p", "empty", T.nothingSelected)); }

  async function loadSuggestions(report) {
    const response = await api("GET", config.duplicatesUrl.replace("__id__", report.id));
    if (queue.state.detail !== report) return;
    suggestions = response.ok ? response.data : [];
    if (suggestions.length) renderPanel(report);
  }

  function suggestedUnit(report) { return report.suggested_unit || report.unit; }

  const percent = (p) => Math.round(p * 100) + "%";

  function renderPanel(report) {
    reports.renderDetail(panel, report);
    const suggestion = report.suggestion;
    const actions = el("div", "actions");
    if (suggestion && !suggestion.taken) {
      const take = keyHint("S", T.takeSuggestion);
      take.classList.add("key-hint-main");
      actions.appendChild(take);
    }
    if (report.status === "received") {
      actions.appendChild(keyHint("A", T.accept));
      actions.appendChild(keyHint("1/2/3", T.acceptAs));
    }
    actions.appendChild(keyHint("G", T.assignTo + " " + unitName(suggestedUnit(report))));
    actions.appendChild(keyHint("U", T.otherUnit));
    actions.appendChild(keyHint("R", T.reject));
    if (suggestions.length) actions.appendChild(keyHint("D", T.duplicate + " (" + suggestions.length + ")"));
    if (suggestion) panel.prepend(suggestionBox(suggestion));
    panel.prepend(actions);
    if (suggestions.length) {
      const box = el("div", "suggestions");
      box.appendChild(el("h3", "", T.similar));
      const list = el("ol");
      suggestions.forEach((s) => list.appendChild(similarItem(s)));
      box.appendChild(list);
      panel.appendChild(box);
      drawMap(box, report);
    }
    unitSelect.value = suggestedUnit(report);
  }

  // What the triage suggestion proposes, how sure it is of each part, and the words behind it.
  function suggestionBox(suggestion) {
    const box = el("section", "triage-suggestion");
    box.setAttribute("aria-label", T.suggestion);
    const head = el("div", "suggestion-head");
    head.appendChild(el("strong", "", T.suggestion));
    const source = suggestion.source === "rules" ? T.keywordRules
      : suggestion.model !== null ? T.modelVersion.replace("%s", suggestion.model) : T.model;
    head.appendChild(el("span", "suggestion-source", source));
    box.appendChild(head);
    const category = el("p", "suggestion-category");
    category.appendChild(el("strong", "", suggestion.category_name));
    category.appendChild(el("span", "confidence", percent(suggestion.confidence)));
    box.appendChild(category);
    const rest = el("p", "suggestion-rest");
    if (suggestion.level) {
      rest.appendChild(document.createTextNode(T.level + ": "));
      rest.appendChild(el("strong", "", suggestion.level_label || (T.levels[suggestion.level] || suggestion.level)));
      rest.appendChild(el("span", "confidence", percent(suggestion.level_confidence)));
    }
    if (suggestion.unit) {
      if (suggestion.level) rest.appendChild(document.createTextNode(" · "));
      rest.appendChild(document.createTextNode(T.unit + ": "));
      rest.appendChild(el("strong", "", suggestion.unit_name || suggestion.unit));
      rest.appendChild(el("span", "confidence", percent(suggestion.unit_confidence)));
    }
    if (rest.childNodes.length) box.appendChild(rest);
    if (suggestion.words && suggestion.words.length) {
      const words = el("p", "suggestion-words", T.becauseOf + " ");
      suggestion.words.forEach((word) => words.appendChild(el("q", "word", word)));
      box.appendChild(words);
    }
    const alternatives = (suggestion.alternatives || []).slice(0, 2);
    if (alternatives.length) {
      box.appendChild(el("p", "suggestion-alternatives", T.otherPossibilities + " " +
        alternatives.map((a) => a.name + " " + percent(a.confidence)).join(" · ")));
    }
    return box;
  }

  // A similar open report: how alike (text, place, category), and the one likely the same first.
  function similarItem(s) {
    const item = el("li", "similar" + (s.proposed ? " proposed" : ""));
    const line = el("div", "similar-line");
    line.appendChild(el("strong", "code", s.tracking_code));
    const about = [s.category_name, s.status_label, s.distance_m + " m", when(s.received_at)].filter(Boolean);
    line.appendChild(document.createTextNode(" · " + about.join(" · ") + " "));
    if (typeof s.score === "number") line.appendChild(el("span", "score", T.match.replace("%s", percent(s.score))));
    if (s.proposed) line.appendChild(el("span", "likely-same", T.likelySame));
    item.appendChild(line);
    if (s.description) {
      const text = s.description.length > 110 ? s.description.slice(0, 110).trimEnd() + "…" : s.description;
      item.appendChild(el("span", "similar-text", text));
    }
    return item;
  }

  function drawMap(container, report) {
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

  function addOptions(select, rows) {
    for (const row of rows) {
      const option = el("option", "", row.name);
      option.value = row.code;
      select.appendChild(option);
    }
  }

  async function loadUnits() {
    const response = await api("GET", config.unitsUrl);
    if (!response.ok) return;
    unitSelect.replaceChildren();
    addOptions(unitSelect, response.data.results);
    addOptions(filters.elements.unit, response.data.results);
  }

  async function loadCategories() {
    const response = await api("GET", config.categoriesUrl);
    if (response.ok) addOptions(filters.elements.category, response.data);
  }

  // A filter changed: the queue from its first page; the keys go back to the list.
  filters.addEventListener("change", (event) => {
    queue.reset();
    queue.load();
    if (event.target.blur) event.target.blur();
  });
  filters.addEventListener("submit", (event) => event.preventDefault());

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

  // --- alerts: a second list on the same controller, without a detail pane ---------------------
  const rank = { critical: 0, warning: 1, info: 2 };
  const alerts = screen({
    list: document.getElementById("alerts"), count: document.getElementById("alert-count"), status,
    empty: T.noAlerts, listUrl: config.alertsUrl, loadDetail: false, autoSelect: false, itemClass: "alert",
    stepUrl: (id, name) => config.alertUrl.replace("__id__", id) + name + "/",
    order: (a, b) => rank[a.severity] - rank[b.severity] || b.last_seen_at.localeCompare(a.last_seen_at),
    keep: (alert) => alert.state !== "resolved", liveType: "ioc.alert.updated",
    describe: (alert) => alert.title,
    renderItem: (alert, node) => {
      node.classList.add("alert-" + alert.severity, "alert-" + alert.state);
      node.appendChild(el("strong", "", alert.title + (alert.count > 1 ? " ×" + alert.count : "")));
      node.appendChild(el("span", "meta", alert.unit_name + " · " + when(alert.last_seen_at) + " · " + (T.alertStates[alert.state] || alert.state)));
    },
    renderDetail: () => {},
    onRender: (items) => {
      const critical = items.filter((a) => a.severity === "critical" && a.state === "open").length;
      document.title = (critical ? "(" + critical + ") " : "") + T.title;
    },
  });

  const report = () => queue.state.detail;
  keys({
    j: () => queue.move(1), ArrowDown: () => queue.move(1), k: () => queue.move(-1), ArrowUp: () => queue.move(-1),
    s: () => report() && report().suggestion && !report().suggestion.taken && queue.step("take-suggestion"),
    a: () => report() && report().status === "received" && queue.step("accept"),
    1: () => queue.step("accept", { level: "urgent" }),
    2: () => queue.step("accept", { level: "complex" }),
    3: () => queue.step("accept", { level: "normal" }),
    g: () => report() && queue.step("assign", { unit: suggestedUnit(report()) }),
    u: () => unitSelect.focus(),
    r: () => ask(T.rejectReason, T.defaultRejectReason, (reason) => queue.step("reject", { reason })),
    d: () => suggestions.length && ask(T.duplicateOf, "1", (n) => {
      const parent = suggestions[Number(n) - 1];
      if (parent) queue.step("duplicate", { parent: parent.id });
    }),
    n: () => alerts.move(1), p: () => alerts.move(-1),
    e: () => alerts.step("acknowledge"), x: () => alerts.step("resolve"),
    "?": () => { const help = document.getElementById("help"); help.hidden = !help.hidden; },
    h: () => { const link = document.querySelector('.staff-nav a[href$="/console/hotline/"]'); if (link) link.click(); }, // in the menu only for those who take calls
  }, (event) => {
    if (event.key === "Escape") {
      closePrompt(); unitSelect.blur();
      if (filters.contains(event.target)) event.target.blur();
      return true;
    }
    if (event.target === unitSelect && event.key === "Enter") {
      event.preventDefault(); unitSelect.blur(); queue.step("assign", { unit: unitSelect.value }); return true;
    }
    return false;
  });

  connect(queue, alerts);
  loadUnits();
  loadCategories();
})();
