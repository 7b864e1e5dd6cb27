// Camera incidents: folded events the operator acknowledges, dispatches and closes, live. The detail
// shows what the operator judges by (the latest snapshot, the clip, where the camera is in its ward)
// and the unit select starts on the camera's ward, so D alone sends the right people.
(function () {
  "use strict";
  const { config, T, el, when, screen, keys, connect } = window.IOC.staff;
  const api = window.IOC.api;
  const detail = document.getElementById("incident-detail");
  const actions = document.getElementById("incident-actions");
  const unitSelect = document.getElementById("dispatch-unit");
  const help = document.getElementById("help");
  const OPEN = ["new", "acknowledged", "dispatched"];
  const rank = { critical: 0, warning: 1, info: 2 };
  const incidentUrl = (id) => config.incidentUrl.replace("__id__", id);
  const locale = config.lang === "en" ? "en-GB" : "vi-VN";
  const clock = new Intl.DateTimeFormat(locale, { timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit", minute: "2-digit" });
  const day = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Ho_Chi_Minh" });
  let map = null;
  let wardShapes = null;

  // A live message is built once for every reader: take the kind's name in this page's language.
  const kindName = (incident) => (incident.kind_names && incident.kind_names[config.lang]) || incident.kind_name;
  const hhmm = (iso) => clock.format(new Date(iso));
  // The city's clock; the date too when it is not today.
  const at = (iso) => (day.format(new Date(iso)) === day.format(new Date()) ? hhmm(iso) : when(iso));
  const span = (first, last) => (hhmm(first) === hhmm(last) ? hhmm(first) : hhmm(first) + "–" + hhmm(last));
  // "12 × Ùn tắc giao thông, 02:10–02:28": one line per incident, however many events it folds.
  const folded = (incident) => incident.event_count + " × " + kindName(incident) + ", " + span(incident.first_event_at, incident.last_event_at);

  const incidents = screen({
    list: document.getElementById("incidents"), count: document.getElementById("incident-count"),
    status: document.getElementById("cameras-status"), empty: T.noIncidents,
    listUrl: config.incidentsUrl, itemUrl: incidentUrl, stepUrl: (id, name) => incidentUrl(id) + name + "/",
    // As the API orders them: severity, then the latest event first, then id, so ties never swap.
    order: (a, b) => rank[a.severity] - rank[b.severity] || Date.parse(b.last_event_at) - Date.parse(a.last_event_at) || b.id - a.id,
    keep: (incident) => OPEN.includes(incident.status), liveType: "traffic.incident.updated",
    describe: (incident) => incident.status_label,
    renderItem: (incident, node) => {
      node.classList.add("alert-" + incident.severity);
      node.appendChild(el("span", "level level-" + (incident.severity === "critical" ? "urgent" : "complex"), incident.status_label));
      const main = el("div", "main");
      main.appendChild(el("strong", "folded-line", folded(incident)));
      main.appendChild(el("span", "", incident.camera_name + " · " + incident.unit_name));
      node.appendChild(main);
      const time = el("time", "when", at(incident.last_event_at));
      time.dateTime = incident.last_event_at;
      node.appendChild(time);
    },
    onSelect: (id) => { actions.hidden = !id; },
    renderDetail,
  });

  function renderDetail(incident) {
    if (map) { map.remove(); map = null; }
    detail.replaceChildren();
    if (!incident) { detail.appendChild(el("p", "empty", T.nothingSelected)); return; }
    chooseUnit(incident);
    detail.appendChild(el("h2", "detail-title", kindName(incident) + " · " + incident.camera_name));
    const state = incident.dispatched_to_name ? T.dispatchedTo + " " + incident.dispatched_to_name : incident.status_label;
    const where = [incident.road, incident.unit_name, state];
    detail.appendChild(el("p", "where", where.filter(Boolean).join(" · ")));
    if (incident.note) detail.appendChild(el("p", "description", incident.note));

    const media = el("div", "media");
    media.appendChild(snapshots(incident));
    const place = el("div", "place");
    const mapNode = el("div", "camera-map");
    mapNode.id = "camera-map";
    place.appendChild(mapNode);
    media.appendChild(place);
    detail.appendChild(media);
    drawMap(mapNode, place, incident);

    const lines = el("ol", "folded");
    for (const group of incident.folded || []) {
      lines.appendChild(el("li", "", group.count + " × " + group.label + ", " + span(group.first, group.last)));
    }
    detail.appendChild(lines);
  }

  // The latest snapshot large, the others as thumbnails that take its place when chosen.
  function snapshots(incident) {
    const box = el("div", "shots");
    const shots = incident.events.filter((event) => event.snapshot);
    const figure = el("figure", "snapshot");
    box.appendChild(figure);
    if (!shots.length) {
      figure.appendChild(el("p", "empty", T.noSnapshot));
    } else {
      const big = el("img");
      big.id = "snapshot";
      const caption = el("figcaption");
      figure.append(big, caption);
      const clip = el("a", "clip", T.clip);
      clip.target = "_blank"; clip.rel = "noopener noreferrer";
      const show = (event) => {
        big.src = event.snapshot; big.alt = kindName(incident) + " · " + at(event.occurred_at);
        caption.textContent = T.snapshotOf + " " + at(event.occurred_at) + (event.plate ? " · " + event.plate : "");
        const url = event.clip_url || incident.clip_url;
        clip.hidden = !url; if (url) clip.href = url;
        thumbs.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(Number(b.dataset.id) === event.id)));
      };
      const thumbs = el("div", "thumbs");
      if (shots.length > 1) {
        for (const event of shots.slice(0, 12)) {
          const button = el("button");
          button.type = "button"; button.dataset.id = event.id; button.tabIndex = -1;
          const img = el("img"); img.src = event.snapshot; img.alt = at(event.occurred_at); img.loading = "lazy";
          button.appendChild(img);
          button.addEventListener("click", () => show(event));
          thumbs.appendChild(button);
        }
      }
      box.append(clip, thumbs);
      show(shots[0]);
    }
    if (!shots.length && incident.clip_url) {
      const clip = el("a", "clip", T.clip);
      clip.href = incident.clip_url; clip.target = "_blank"; clip.rel = "noopener noreferrer";
      box.appendChild(clip);
    }
    return box;
  }

  // The wards' outlines come from the site (no tile server needed); tiles only when one is set.
  function wards() {
    if (!wardShapes) {
      wardShapes = api("GET", config.mapUnitsUrl).then((response) => (response.ok ? response.data.features || [] : []));
    }
    return wardShapes;
  }

  async function drawMap(node, place, incident) {
    if (!window.L) return;
    if (incident.latitude === null || incident.longitude === null) {
      node.replaceWith(el("p", "empty", T.noPosition));
      return;
    }
    const features = await wards();
    if (!node.isConnected) return;  // another incident was chosen meanwhile
    const L = window.L;
    map = L.map(node, { zoomControl: true, attributionControl: false });
    if (config.tilesUrl) L.tileLayer(config.tilesUrl, { maxZoom: 19 }).addTo(map);
    const ward = features.find((f) => f.properties && f.properties.code === incident.unit);
    const camera = [incident.latitude, incident.longitude];
    if (ward) {
      const shape = L.geoJSON(ward, { style: { color: "#0b5cad", weight: 2, fillColor: "#0b5cad", fillOpacity: 0.08 } }).addTo(map);
      map.fitBounds(shape.getBounds().extend(camera), { padding: [12, 12] });
      const note = el("p", "map-note", ward.properties.name + (ward.properties.approximate ? " (" + T.approximate + ")" : ""));
      place.appendChild(note);
    } else {
      map.setView(camera, 15);
    }
    const severity = { critical: "#b3261e", warning: "#d97706", info: "#0b5cad" }[incident.severity] || "#b3261e";
    L.circleMarker(camera, { radius: 8, color: "#fff", weight: 2, fillColor: severity, fillOpacity: 1, className: "camera-marker" })
      .bindTooltip(incident.camera_name).addTo(map);
  }

  // The select starts on the unit a dispatch should go to (the camera's ward), not the list's first.
  function chooseUnit(incident) {
    const code = incident.dispatch_unit;
    if (!code) return;
    if (![...unitSelect.options].some((o) => o.value === code)) {
      const option = el("option", "", incident.dispatch_unit_name || code); option.value = code; unitSelect.appendChild(option);
    }
    unitSelect.value = code;
  }

  (async () => {
    const response = await api("GET", config.unitsUrl);
    if (!response.ok) return;
    const chosen = unitSelect.value;
    unitSelect.replaceChildren();
    for (const unit of response.data.results) {
      const option = el("option", "", unit.name); option.value = unit.code; unitSelect.appendChild(option);
    }
    if (incidents.state.detail) chooseUnit(incidents.state.detail); else if (chosen) unitSelect.value = chosen;
  })();

  keys({
    j: () => incidents.move(1), k: () => incidents.move(-1), ArrowDown: () => incidents.move(1), ArrowUp: () => incidents.move(-1),
    a: () => incidents.step("acknowledge"), d: () => incidents.step("dispatch", { unit: unitSelect.value }),
    x: () => incidents.step("resolve"), f: () => incidents.step("false-alarm"),
    "?": () => { help.hidden = !help.hidden; }, Escape: () => { help.hidden = true; },
  });
  connect(incidents);
})();
