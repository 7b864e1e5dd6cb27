// The wall: draw from the snapshot, then apply live messages (each carries absolute state).
// Reconnects with backoff, reloads the snapshot on every (re)connect and every minute.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("wall-config").textContent);
  const T = config.text;
  const state = { alerts: new Map(), loading: false, buffered: [], snapshotAt: null };
  const connection = document.getElementById("connection");
  const ticker = document.getElementById("ticker");
  const baseTitle = document.title;

  // --- clock (Asia/Ho_Chi_Minh whatever the screen's own zone) ---------------------------
  const clockFormat = new Intl.DateTimeFormat(config.lang === "en" ? "en-GB" : "vi-VN", {
    timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit", minute: "2-digit", second: "2-digit",
    weekday: "short", day: "2-digit", month: "2-digit",
  });
  function tick() { document.getElementById("clock").textContent = clockFormat.format(new Date()); }
  tick(); setInterval(tick, 1000);

  function setConnection(name) {
    connection.dataset.state = name;
    connection.textContent = T[name];
  }

  // --- panels -------------------------------------------------------------------------------
  function panelFor(code) { return document.querySelector('.panel[data-subsystem="' + code + '"]'); }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function formatValue(value) {
    if (value === null || value === undefined) return "–";
    if (typeof value === "number") return value.toLocaleString(config.lang === "en" ? "en-US" : "vi-VN", { maximumFractionDigits: 1 });
    return String(value);
  }

  // A small line of the last periods, drawn as SVG (no chart library needed).
  function sparkline(values) {
    const points = values.map((v, i) => [i, v]).filter((p) => p[1] !== null);
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "sparkline");
    svg.setAttribute("viewBox", "0 0 100 24");
    svg.setAttribute("preserveAspectRatio", "none");
    if (points.length < 2) return svg;
    const ys = points.map((p) => p[1]);
    const low = Math.min(...ys), high = Math.max(...ys), span = high - low || 1, last = values.length - 1;
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points.map((p) => (p[0] / last * 100).toFixed(1) + "," +
      (22 - (p[1] - low) / span * 20).toFixed(1)).join(" "));
    svg.appendChild(line);
    return svg;
  }

  function renderPanel(panel) {
    const node = panelFor(panel.code);
    if (!node) return;
    const body = node.querySelector(".panel-body");
    const figures = panel.figures;
    body.replaceChildren();
    if (!figures || !figures.kpis || figures.kpis.length === 0) {
      body.appendChild(el("p", "panel-empty", T.noData));
    } else {
      for (const kpi of figures.kpis) {
        const box = el(kpi.link ? "a" : "div", "kpi");
        if (kpi.link) box.href = kpi.link;
        box.dataset.code = kpi.code;
        if (kpi.status) box.dataset.status = kpi.status;
        const value = el("span", "kpi-value", formatValue(kpi.value));
        if (kpi.unit) value.appendChild(el("span", "kpi-unit", kpi.unit));
        box.appendChild(value);
        box.appendChild(el("span", "kpi-label", kpi.label));
        if (kpi.change !== undefined && kpi.change !== null && kpi.change !== 0) {
          const arrow = kpi.change > 0 ? "▲" : "▼";
          const text = arrow + " " + formatValue(Math.abs(kpi.change_percent !== null && kpi.change_percent !== undefined ? kpi.change_percent : kpi.change)) +
            (kpi.change_percent !== null && kpi.change_percent !== undefined ? "%" : "");
          const change = el("span", "kpi-change", text);
          if (kpi.trend) change.dataset.trend = kpi.trend;
          box.appendChild(change);
        }
        if (kpi.spark && kpi.spark.length > 1) box.appendChild(sparkline(kpi.spark));
        if (kpi.band) { box.style.setProperty("--band", kpi.band.color || ""); box.dataset.band = kpi.band.code; }
        body.appendChild(box);
      }
      for (const list of figures.lists || []) {
        if (!list.rows || list.rows.length === 0) continue;
        const block = el("div", "panel-list");
        block.dataset.code = list.code;
        block.appendChild(el("h3", "", list.label));
        const rows = el("ol");
        for (const row of list.rows.slice(0, 3)) {
          const item = el("li");
          item.appendChild(el("span", "row-label", row.label));
          item.appendChild(el("span", "row-value", formatValue(row.value) + (row.unit ? " " + row.unit : "")));
          rows.appendChild(item);
        }
        block.appendChild(rows);
        body.appendChild(block);
      }
    }
    const alerts = panel.alerts || {};
    for (const level of ["critical", "warning"]) {
      const badge = node.querySelector(".badge." + level);
      const count = alerts[level] || 0;
      badge.textContent = count;
      badge.dataset.count = count;
    }
    node.classList.toggle("has-critical", (alerts.critical || 0) > 0);
  }

  // --- alerts ticker ---------------------------------------------------------------------------
  const rank = { critical: 0, warning: 1, info: 2 };
  function renderTicker() {
    const open = [...state.alerts.values()].filter((a) => a.state !== "resolved");
    open.sort((a, b) => rank[a.severity] - rank[b.severity] || (b.last_seen_at || "").localeCompare(a.last_seen_at || ""));
    ticker.replaceChildren();
    if (open.length === 0) ticker.appendChild(el("li", "none", T.noAlerts));
    for (const alert of open.slice(0, 20)) {
      const item = el("li", alert.severity);
      item.dataset.alertId = alert.id;
      item.appendChild(document.createTextNode(alert.title + (alert.count > 1 ? " ×" + alert.count : "")));
      item.appendChild(el("span", "unit", alert.unit_name));
      ticker.appendChild(item);
    }
    const critical = open.filter((a) => a.severity === "critical").length;
    document.title = critical ? "(" + critical + ") " + baseTitle : baseTitle;
  }

  function applyAlert(alert) {
    if (alert.state === "resolved") state.alerts.delete(alert.id);
    else state.alerts.set(alert.id, alert);
    renderTicker();
  }

  // --- snapshot and messages -----------------------------------------------------------------
  function apply(message) {
    if (message.type === "ioc.alert.updated") applyAlert(message.data);
    else if (message.type && message.type.endsWith(".kpis")) renderPanel(message.data);
  }

  async function loadSnapshot() {
    state.loading = true;
    try {
      const response = await fetch(config.snapshotUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.status === 401 || response.status === 403) { window.location.reload(); return; }
      if (!response.ok) throw new Error("snapshot " + response.status);
      const snapshot = await response.json();
      state.snapshotAt = snapshot.at;
      snapshot.subsystems.forEach(renderPanel);
      state.alerts = new Map(snapshot.alerts.map((a) => [a.id, a]));
      renderTicker();
      // Messages that arrived while the snapshot was loading are newer than what it may hold.
      const queued = state.buffered;
      state.buffered = [];
      queued.filter((m) => !state.snapshotAt || m.at >= state.snapshotAt).forEach(apply);
    } catch (error) {
      console.warn("snapshot failed", error);
    } finally {
      state.loading = false;
      if (state.buffered.length) { const rest = state.buffered; state.buffered = []; rest.forEach(apply); }
    }
  }

  // --- map: one layer per subsystem that offers one ----------------------------------------
  const colors = { ok: "#2ecc71", warning: "#f5b400", critical: "#ff4d4f", offline: "#8aa3bd" };
  const map = window.L ? window.L.map("map", { zoomControl: false, attributionControl: false })
    .setView(config.center, 11) : null;
  if (map) window.L.tileLayer(config.tiles, { maxZoom: 19 }).addTo(map);
  const layers = new Map();
  config.layers = JSON.parse(document.getElementById("wall-layers").textContent);
  async function loadLayers() {
    if (!map) return;
    for (const layer of config.layers) {
      const response = await fetch(layer.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) continue;
      const points = await response.json();
      if (layers.has(layer.code)) layers.get(layer.code).remove();
      const group = window.L.layerGroup(points.map((p) => window.L.circleMarker([p.latitude, p.longitude], {
        radius: layer.code === "reports" ? 5 : 8, color: colors[p.status] || colors.ok, weight: 2,
        fillOpacity: 0.7,
      }).bindTooltip(p.label)));
      group.addTo(map);
      layers.set(layer.code, group);
    }
  }
  let layerTimer = null;
  function refreshLayersSoon() { clearTimeout(layerTimer); layerTimer = setTimeout(loadLayers, 2000); }

  // --- live connection ---------------------------------------------------------------------
  loadSnapshot();
  loadLayers();
  setInterval(loadLayers, config.snapshotEveryMs);
  window.IOC.live.connect({
    onState: setConnection,
    onConnect: loadSnapshot,
    onMessage: (message) => {
      if (message.type.endsWith(".updated")) refreshLayersSoon();
      if (state.loading) state.buffered.push(message); else apply(message);
    },
  });
  setInterval(loadSnapshot, config.snapshotEveryMs);
})();
