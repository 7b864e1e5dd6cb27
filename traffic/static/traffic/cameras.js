// Camera incidents: folded events the operator acknowledges, dispatches and closes. Live.
(function () {
  "use strict";
  const { config, T, el, when, screen, keys, connect } = window.IOC.staff;
  const api = window.IOC.api;
  const detail = document.getElementById("incident-detail");
  const actions = document.getElementById("incident-actions");
  const unitSelect = document.getElementById("dispatch-unit");
  const OPEN = ["new", "acknowledged", "dispatched"];
  const rank = { critical: 0, warning: 1, info: 2 };
  const incidentUrl = (id) => config.incidentUrl.replace("__id__", id);

  const incidents = screen({
    list: document.getElementById("incidents"), count: document.getElementById("incident-count"),
    status: document.getElementById("cameras-status"), empty: T.noIncidents,
    listUrl: config.incidentsUrl, itemUrl: incidentUrl, stepUrl: (id, name) => incidentUrl(id) + name + "/",
    order: (a, b) => rank[a.severity] - rank[b.severity] || b.last_event_at.localeCompare(a.last_event_at),
    keep: (incident) => OPEN.includes(incident.status), liveType: "traffic.incident.updated",
    describe: (incident) => incident.status_label,
    renderItem: (incident, node) => {
      node.classList.add("alert-" + incident.severity);
      node.appendChild(el("span", "level level-" + (incident.severity === "critical" ? "urgent" : "complex"), incident.status_label));
      const main = el("div", "main");
      main.appendChild(el("strong", "", incident.kind_name + (incident.event_count > 1 ? " ×" + incident.event_count : "")));
      main.appendChild(el("span", "", incident.camera_name + " · " + incident.unit_name));
      node.appendChild(main);
      node.appendChild(el("span", "countdown", when(incident.last_event_at)));
    },
    onSelect: (id) => { actions.hidden = !id; },
    renderDetail: (incident) => {
      detail.replaceChildren();
      if (!incident) { detail.appendChild(el("p", "empty", T.nothingSelected)); return; }
      detail.appendChild(el("h2", "detail-title", incident.kind_name + " · " + incident.camera_name));
      detail.appendChild(el("p", "where", incident.unit_name + " · " + when(incident.first_event_at) + " → " +
        when(incident.last_event_at) + " · ×" + incident.event_count));
      if (incident.note) detail.appendChild(el("p", "description", incident.note));
      const photos = el("div", "photos");
      for (const event of incident.events) {
        if (!event.snapshot) continue;
        const img = el("img"); img.src = event.snapshot; img.alt = incident.kind_name; img.loading = "lazy";
        photos.appendChild(img);
      }
      detail.appendChild(photos);
      const table = el("ol", "timeline");
      for (const event of incident.events) {
        const row = el("li");
        row.appendChild(el("span", "at", when(event.occurred_at)));
        row.appendChild(el("span", "what", [event.plate, event.speed_kmh ? event.speed_kmh + " km/h" : "",
          event.congestion_level].filter(Boolean).join(" · ") || "–"));
        table.appendChild(row);
      }
      detail.appendChild(table);
    },
  });

  (async () => {
    const response = await api("GET", config.unitsUrl);
    if (!response.ok) return;
    for (const unit of response.data.results) {
      const option = el("option", "", unit.name); option.value = unit.code; unitSelect.appendChild(option);
    }
  })();

  keys({
    j: () => incidents.move(1), k: () => incidents.move(-1), ArrowDown: () => incidents.move(1), ArrowUp: () => incidents.move(-1),
    a: () => incidents.step("acknowledge"), d: () => incidents.step("dispatch", { unit: unitSelect.value }),
    x: () => incidents.step("resolve"), f: () => incidents.step("false-alarm"),
  });
  connect(incidents);
})();
