// Camera incidents: folded events the operator acknowledges, dispatches and closes. Live.
(function () {
  "use strict";
  const { T, el, when, flash } = window.IOC.staff;
  const api = window.IOC.api;
  const state = { items: new Map(), selected: null };
  const list = document.getElementById("incidents");
  const detail = document.getElementById("incident-detail");
  const actions = document.getElementById("incident-actions");
  const unitSelect = document.getElementById("dispatch-unit");
  const status = document.getElementById("cameras-status");
  const OPEN = ["new", "acknowledged", "dispatched"];
  const rank = { critical: 0, warning: 1, info: 2 };
  window.IOC.staff.clock(document.getElementById("clock"));

  function ordered() {
    return [...state.items.values()].sort((a, b) => rank[a.severity] - rank[b.severity] ||
      b.last_event_at.localeCompare(a.last_event_at));
  }

  function render() {
    list.replaceChildren();
    const items = ordered();
    document.getElementById("incident-count").textContent = items.length;
    if (!items.length) list.appendChild(el("li", "empty", T.noAlerts));
    for (const incident of items) {
      const item = el("li", "queue-item alert-" + incident.severity);
      item.dataset.id = incident.id;
      item.setAttribute("aria-selected", String(incident.id === state.selected));
      item.appendChild(el("span", "level level-" + (incident.severity === "critical" ? "urgent" : "complex"), incident.status_label));
      const main = el("div", "main");
      main.appendChild(el("strong", "", incident.kind_name + (incident.event_count > 1 ? " ×" + incident.event_count : "")));
      main.appendChild(el("span", "", incident.camera_name + " · " + incident.unit_name));
      item.appendChild(main);
      item.appendChild(el("span", "countdown", when(incident.last_event_at)));
      item.addEventListener("click", () => select(incident.id));
      list.appendChild(item);
    }
    if (!state.selected && items.length) select(items[0].id);
  }

  async function load() {
    const response = await api("GET", "/api/v1/traffic/incidents/?open=true&limit=200");
    if (!response.ok) return;
    state.items = new Map(response.data.results.map((i) => [i.id, i]));
    render();
  }

  async function select(id) {
    state.selected = id;
    list.querySelectorAll(".queue-item").forEach((n) => n.setAttribute("aria-selected", String(Number(n.dataset.id) === id)));
    actions.hidden = !id;
    if (!id) { detail.replaceChildren(el("p", "empty", T.nothingSelected)); return; }
    const response = await api("GET", "/api/v1/traffic/incidents/" + id + "/");
    if (!response.ok || state.selected !== id) return;
    const incident = response.data;
    detail.replaceChildren();
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
  }

  async function step(name, body) {
    if (!state.selected) return;
    const response = await api("POST", "/api/v1/traffic/incidents/" + state.selected + "/" + name + "/", body || {});
    if (response.ok) {
      flash(status, T.done + ": " + response.data.status_label, "ok");
      apply({ type: "traffic.incident.updated", data: response.data });
    } else {
      flash(status, window.IOC.errorText(response.data, T.failed), response.status === 409 ? "conflict" : "error");
    }
  }

  function apply(message) {
    if (message.type !== "traffic.incident.updated") return;
    const incident = message.data;
    if (OPEN.includes(incident.status)) state.items.set(incident.id, incident); else state.items.delete(incident.id);
    if (state.selected === incident.id && !OPEN.includes(incident.status)) state.selected = null;
    render();
  }

  (async () => {
    const response = await api("GET", "/api/v1/units/?limit=1000");
    if (!response.ok) return;
    for (const unit of response.data.results) {
      const option = el("option", "", unit.name); option.value = unit.code; unitSelect.appendChild(option);
    }
  })();

  function move(delta) {
    const ids = ordered().map((i) => i.id);
    if (!ids.length) return;
    select(ids[Math.max(0, Math.min(ids.length - 1, ids.indexOf(state.selected) + delta))]);
  }

  document.addEventListener("keydown", (event) => {
    if (["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName) || event.ctrlKey || event.metaKey || event.altKey) return;
    const keys = {
      j: () => move(1), k: () => move(-1), ArrowDown: () => move(1), ArrowUp: () => move(-1),
      a: () => step("acknowledge"), d: () => step("dispatch", { unit: unitSelect.value }),
      x: () => step("resolve"), f: () => step("false-alarm"),
    };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
  });

  window.IOC.live.connect({
    onState: window.IOC.staff.connectionBadge(document.getElementById("connection")),
    onConnect: load,
    onMessage: apply,
  });
  setInterval(load, 60000);
})();
