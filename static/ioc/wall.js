// The wall: draw from the snapshot, then apply live messages (each carries absolute state).
// Reconnects with backoff, reloads the snapshot on every (re)connect and every minute. A playlist
// turns the overview and each subsystem's own screen; a panel with more than fits turns its pages;
// the ticker runs through every open critical and warning alert; a lost connection dims the wall.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("wall-config").textContent);
  const layersConfig = JSON.parse(document.getElementById("wall-layers").textContent);
  const screenNames = new Map(JSON.parse(document.getElementById("wall-screens").textContent).map((s) => [s.code, s.name]));
  const T = config.text;
  const locale = config.lang === "en" ? "en-GB" : "vi-VN";
  const state = {
    alerts: new Map(), panels: new Map(), loading: false, buffered: [], snapshotAt: null,
    playlist: null, index: 0, view: "overview", pausedUntil: config.paused ? Infinity : 0, lastKpis: new Map(),
  };
  const body = document.body;
  const connection = document.getElementById("connection");
  const ticker = document.getElementById("ticker");
  const tickerTop = document.getElementById("ticker-top");
  const baseTitle = document.title;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // --- clock (Asia/Ho_Chi_Minh whatever the screen's own zone) ---------------------------
  const clockFormat = new Intl.DateTimeFormat(locale, {
    timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit", minute: "2-digit", second: "2-digit",
    weekday: "short", day: "2-digit", month: "2-digit",
  });
  const timeFormat = new Intl.DateTimeFormat(locale, { timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit", minute: "2-digit" });
  function tick() { document.getElementById("clock").textContent = clockFormat.format(new Date()); }
  tick(); setInterval(tick, 1000);

  function age(iso) {
    const minutes = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 60000));
    if (minutes < 1) return T.now;
    if (minutes < 60) return T.ago.replace("%s", minutes + " " + T.minutes);
    if (minutes < 48 * 60) return T.ago.replace("%s", Math.floor(minutes / 60) + " " + T.hours);
    return T.ago.replace("%s", Math.floor(minutes / 1440) + " " + T.days);
  }

  function formatValue(value) {
    if (value === null || value === undefined) return "–";
    if (typeof value === "number") return value.toLocaleString(config.lang === "en" ? "en-US" : "vi-VN", { maximumFractionDigits: 1 });
    return String(value);
  }

  // --- connection: a short drop shows in the pill; a long one dims the whole wall --------------
  let lostAt = null, staleTimer = null;
  function setConnection(name) {
    connection.dataset.state = name;
    connection.textContent = T[name];
    if (name === "connected") {
      lostAt = null; clearTimeout(staleTimer); staleTimer = null;
      body.classList.remove("lost"); document.getElementById("stale").hidden = true;
    } else if (name === "disconnected" && lostAt === null) {
      lostAt = new Date();
      staleTimer = setTimeout(() => {
        body.classList.add("lost");
        document.getElementById("stale-text").textContent = T.staleSince.replace("%s", timeFormat.format(lostAt));
        document.getElementById("stale").hidden = false;
      }, config.staleAfterMs);
    }
  }

  // --- panels: content laid out in pages that fit, turned every few seconds ---------------------
  function panelFor(code) { return document.querySelector('.panel[data-subsystem="' + code + '"]'); }

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

  function kpiNode(code, kpi) {
    const box = el(kpi.link && config.canDrill ? "a" : "div", "kpi");
    if (kpi.link && config.canDrill) { box.href = kpi.link; box.addEventListener("click", (e) => { e.preventDefault(); drill(kpi.link, kpi.label); }); }
    box.dataset.code = kpi.code;
    if (kpi.status) box.dataset.status = kpi.status;
    const value = el("span", "kpi-value", formatValue(kpi.value));
    if (kpi.unit) value.appendChild(el("span", "kpi-unit", kpi.unit));
    box.appendChild(value);
    box.appendChild(el("span", "kpi-label", kpi.label));
    if (kpi.change !== undefined && kpi.change !== null && kpi.change !== 0) {
      const percent = kpi.change_percent !== null && kpi.change_percent !== undefined;
      const change = el("span", "kpi-change", (kpi.change > 0 ? "▲ " : "▼ ") +
        formatValue(Math.abs(percent ? kpi.change_percent : kpi.change)) + (percent ? "%" : ""));
      if (kpi.trend) change.dataset.trend = kpi.trend;
      box.appendChild(change);
    }
    if (kpi.spark && kpi.spark.length > 1) box.appendChild(sparkline(kpi.spark));
    if (kpi.band) { box.style.setProperty("--band", kpi.band.color || ""); box.dataset.band = kpi.band.code; }
    // A figure that moved since it was last drawn flashes and shows which way.
    const key = code + ":" + kpi.code, before = state.lastKpis.get(key);
    if (typeof kpi.value === "number" && typeof before === "number" && before !== kpi.value) {
      box.classList.add("changed");
      value.appendChild(el("span", "kpi-moved", kpi.value > before ? "↑" : "↓"));
    }
    if (kpi.value !== undefined) state.lastKpis.set(key, kpi.value);
    return box;
  }

  // The panel's content as blocks to lay out: each figure, then each list row under its heading.
  function blocksOf(panel) {
    const figures = panel.figures || {};
    const blocks = (figures.kpis || []).map((kpi) => ({ kind: "kpi", make: () => kpiNode(panel.code, kpi) }));
    for (const list of figures.lists || []) {
      for (const row of list.rows || []) blocks.push({ kind: "row", list, row });
    }
    return blocks;
  }

  function rowNode(row) {
    const item = el("li");
    item.appendChild(el("span", "row-label", row.label));
    item.appendChild(el("span", "row-value", formatValue(row.value) + (row.unit ? " " + row.unit : "")));
    return item;
  }

  const overflows = (node) => node.scrollHeight > node.clientHeight + 1 || node.scrollWidth > node.clientWidth + 1;

  // Fill pages in order; a block that does not fit starts the next page (a list's heading is
  // repeated there, marked as continued). A block too big for an empty page stays alone on it.
  function paginate(container, blocks) {
    container.replaceChildren();
    const pages = [];
    let page = null, list = null;
    const newPage = () => { page = el("div", "panel-page"); container.appendChild(page); pages.push(page); list = null; };
    const place = (block, continued) => {
      if (block.kind === "kpi") { const node = block.make(); page.appendChild(node); return node; }
      if (!list || list.code !== block.list.code) {
        const wrap = el("div", "panel-list");
        wrap.dataset.code = block.list.code;
        wrap.appendChild(el("h3", "", block.list.label + (continued ? " (" + T.continued + ")" : "")));
        const ol = el("ol");
        wrap.appendChild(ol);
        page.appendChild(wrap);
        list = { code: block.list.code, ol, wrap };
      }
      const item = rowNode(block.row);
      list.ol.appendChild(item);
      return item;
    };
    newPage();
    for (const block of blocks) {
      const node = place(block, false);
      if (!overflows(page)) continue;
      const alone = page.childElementCount === 1 && (block.kind === "kpi" || list.ol.childElementCount === 1);
      if (alone) continue;
      node.remove();
      if (block.kind === "row" && !list.ol.childElementCount) list.wrap.remove();
      const continued = block.kind === "row" && pages.some((p) => p.querySelector('.panel-list[data-code="' + block.list.code + '"]'));
      newPage();
      place(block, continued);
    }
    return pages;
  }

  function renderPanel(panel) {
    state.panels.set(panel.code, { ...panel, receivedAt: Date.now() });
    layoutPanel(panel.code);
    const node = panelFor(panel.code);
    if (!node) return;
    const alerts = panel.alerts || {};
    for (const level of ["critical", "warning"]) {
      const badge = node.querySelector(".badge." + level);
      badge.textContent = alerts[level] || 0;
      badge.dataset.count = alerts[level] || 0;
    }
    node.classList.toggle("has-critical", (alerts.critical || 0) > 0);
    showAge(panel.code);
  }

  function layoutPanel(code) {
    const node = panelFor(code), panel = state.panels.get(code);
    if (!node || !panel) return;
    const bodyNode = node.querySelector(".panel-body");
    const blocks = blocksOf(panel);
    if (!blocks.length) {
      bodyNode.replaceChildren(el("p", "panel-empty", T.noData));
      node.querySelector(".panel-pages").textContent = "";
      node.pages = [];
      return;
    }
    const previous = node.pageIndex || 0;
    node.pages = paginate(bodyNode, blocks);
    showPage(node, previous < node.pages.length ? previous : 0);
  }

  function showPage(node, index) {
    node.pageIndex = index;
    node.pages.forEach((page, i) => { page.hidden = i !== index; });
    node.querySelector(".panel-pages").textContent = node.pages.length > 1 ? (index + 1) + "/" + node.pages.length : "";
  }

  function turnPages() {
    document.querySelectorAll(".panel").forEach((node) => {
      if (node.pages && node.pages.length > 1) showPage(node, (node.pageIndex + 1) % node.pages.length);
    });
    turnAlertPage();
  }

  function showAge(code) {
    const node = panelFor(code), panel = state.panels.get(code);
    if (!node || !panel) return;
    const at = panel.figures && panel.figures.as_of ? new Date(panel.figures.as_of).getTime() : panel.receivedAt;
    const label = node.querySelector(".panel-age");
    label.hidden = Date.now() - at < 60000;
    label.textContent = label.hidden ? "" : age(new Date(at).toISOString());
  }
  setInterval(() => state.panels.forEach((_p, code) => showAge(code)), 10000);

  function relayout() { state.panels.forEach((_p, code) => layoutPanel(code)); renderScreenAlerts(); }
  let resizeTimer = null;
  window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => { relayout(); fitMap(); }, 200); });

  // --- alerts: ticker, the top line, the title and favicon, a subsystem screen's own list -------
  const rank = { critical: 0, warning: 1, info: 2 };
  const openAlerts = () => [...state.alerts.values()].filter((a) => a.state !== "resolved" && a.severity !== "info")
    .sort((a, b) => rank[a.severity] - rank[b.severity] || (b.last_seen_at || "").localeCompare(a.last_seen_at || ""));

  function alertLine(alert, tag) {
    const item = el(tag || "li", alert.severity);
    item.dataset.alertId = alert.id;
    item.appendChild(document.createTextNode(alert.title + (alert.count > 1 ? " ×" + alert.count : "")));
    item.appendChild(el("span", "unit", alert.unit_name));
    item.appendChild(el("span", "age", age(alert.last_seen_at || alert.first_seen_at)));
    return item;
  }

  function renderTicker() {
    const open = openAlerts();
    const shown = state.view === "overview" ? open : open.filter((a) => a.subsystem === state.view);
    ticker.replaceChildren();
    if (!shown.length) ticker.appendChild(el("li", "none", T.noAlerts));
    shown.forEach((alert) => ticker.appendChild(alertLine(alert)));
    document.getElementById("ticker-count").textContent = shown.length ? "(" + shown.length + ")" : "";
    // It moves at a constant speed whatever the number of alerts: a tenth of the screen per second.
    const windowWidth = ticker.parentElement.clientWidth;
    const overflowing = ticker.scrollWidth > windowWidth;
    ticker.classList.toggle("moving", overflowing);
    if (overflowing) {
      ticker.style.setProperty("--ticker-start", windowWidth + "px");
      ticker.style.setProperty("--ticker-duration", ((ticker.scrollWidth + windowWidth) / (window.innerWidth / 10)).toFixed(1) + "s");
    }
    const critical = open.filter((a) => a.severity === "critical");
    document.title = critical.length ? "(" + critical.length + ") " + baseTitle : baseTitle;
    favicon(critical.length);
    renderScreenAlerts();
  }

  // The newest critical alert holds the top line; one arriving flashes it.
  function topLine(alert, arrived) {
    const critical = openAlerts().filter((a) => a.severity === "critical");
    const shown = alert && alert.severity === "critical" && alert.state !== "resolved" ? alert :
      critical.sort((a, b) => (b.first_seen_at || "").localeCompare(a.first_seen_at || ""))[0];
    tickerTop.hidden = !shown;
    if (!shown) return;
    tickerTop.replaceChildren(alertLine(shown, "span"));
    if (arrived) { tickerTop.classList.remove("flash"); void tickerTop.offsetWidth; tickerTop.classList.add("flash"); }
  }

  let lastFavicon = null;
  function favicon(count) {
    if (count === lastFavicon) return;
    lastFavicon = count;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 64;
    const g = canvas.getContext("2d");
    g.fillStyle = count ? "#ff4d4f" : "#2ecc71";
    g.beginPath(); g.arc(32, 32, 30, 0, 2 * Math.PI); g.fill();
    if (count) {
      g.fillStyle = "#fff"; g.font = "bold 38px sans-serif"; g.textAlign = "center"; g.textBaseline = "middle";
      g.fillText(count > 99 ? "99" : String(count), 32, 35);
    }
    document.getElementById("favicon").href = canvas.toDataURL("image/png");
  }

  const screenList = document.getElementById("screen-alerts");
  let alertPages = [], alertPage = 0;
  function renderScreenAlerts() {
    if (state.view === "overview") return;
    const mine = openAlerts().filter((a) => a.subsystem === state.view);
    document.getElementById("screen-alert-count").textContent = mine.length;
    screenList.replaceChildren();
    alertPages = [[]];
    if (!mine.length) { screenList.appendChild(el("li", "none", T.noAlerts)); return; }
    for (const alert of mine) {
      const item = alertLine(alert);
      item.querySelector(".unit").className = "meta";
      screenList.appendChild(item);
      if (overflows(screenList) && alertPages[alertPages.length - 1].length) {
        alertPages[alertPages.length - 1].forEach((n) => { n.hidden = true; });
        alertPages.push([]);
      }
      alertPages[alertPages.length - 1].push(item);
    }
    showAlertPage(alertPage < alertPages.length ? alertPage : 0);
  }
  function showAlertPage(index) {
    alertPage = index;
    alertPages.forEach((page, i) => page.forEach((n) => { n.hidden = i !== index; }));
    document.getElementById("screen-alert-pages").textContent = alertPages.length > 1 ? (index + 1) + "/" + alertPages.length : "";
  }
  function turnAlertPage() { if (alertPages.length > 1) showAlertPage((alertPage + 1) % alertPages.length); }

  function applyAlert(alert) {
    const known = state.alerts.get(alert.id);
    if (alert.state === "resolved") state.alerts.delete(alert.id);
    else state.alerts.set(alert.id, alert);
    renderTicker();
    const arrived = alert.severity === "critical" && alert.state === "open" && (!known || known.count !== alert.count);
    topLine(arrived ? alert : null, arrived);
  }

  // --- snapshot and messages -----------------------------------------------------------------
  function apply(message) {
    if (message.type === "ioc.alert.updated") applyAlert(message.data);
    else if (message.type && message.type.endsWith(".kpis")) renderPanel(message.data);
    if (message.type && message.type.endsWith(".updated")) refreshMapSoon();
  }

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401 || response.status === 403) { window.location.reload(); throw new Error("signed out"); }
    if (!response.ok) throw new Error(url + " " + response.status);
    return response.json();
  }

  async function loadSnapshot() {
    state.loading = true;
    try {
      const snapshot = await getJson(config.snapshotUrl + "?playlist=" + encodeURIComponent(config.playlist));
      state.snapshotAt = snapshot.at;
      snapshot.subsystems.forEach(renderPanel);
      state.alerts = new Map(snapshot.alerts.map((a) => [a.id, a]));
      renderTicker();
      topLine(null, false);
      if (snapshot.playlist) setPlaylist(snapshot.playlist);
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

  // --- playlist: which screen, for how long; keys and clicks pause, a minute later it resumes ---
  let screenTimer = null, pageTimer = null;
  function setPlaylist(playlist) {
    const changed = !state.playlist || JSON.stringify(state.playlist.screens) !== JSON.stringify(playlist.screens) ||
      state.playlist.page_seconds !== playlist.page_seconds;
    state.playlist = playlist;
    if (!changed) return;
    clearInterval(pageTimer);
    pageTimer = setInterval(turnPages, playlist.page_seconds * 1000);
    const dots = document.getElementById("playlist-dots");
    dots.replaceChildren(...playlist.screens.map((s) => { const dot = el("li"); dot.title = screenNames.get(s.screen) || s.screen; return dot; }));
    if (config.pin) { show(config.pin); return; }
    if (state.index >= playlist.screens.length) state.index = 0;
    show(playlist.screens[state.index].screen);
    schedule();
  }

  function show(view) {
    state.view = view;
    body.dataset.view = view === "overview" ? "overview" : "subsystem";
    document.querySelectorAll(".panel").forEach((p) => p.classList.toggle("focus", p.dataset.subsystem === view));
    document.getElementById("wall-screen").textContent = view === "overview" ? "" : (screenNames.get(view) || view);
    document.querySelectorAll("#playlist-dots li").forEach((dot, i) =>
      dot.setAttribute("aria-current", String(state.playlist && state.playlist.screens[i] && i === state.index && state.playlist.screens[i].screen === view)));
    body.dataset.screen = view;
    relayout();
    renderTicker();
    showMapFor(view);
  }

  function paused() { return config.pin || Date.now() < state.pausedUntil; }

  function schedule() {
    clearTimeout(screenTimer);
    if (!state.playlist) return;
    const seconds = state.playlist.screens[state.index] ? state.playlist.screens[state.index].seconds : 30;
    screenTimer = setTimeout(() => {
      if (!paused() && document.getElementById("drill").hidden) step(1);
      else schedule();
    }, seconds * 1000);
    showRotation();
  }

  function step(delta) {
    const screens = state.playlist.screens;
    state.index = (state.index + delta + screens.length) % screens.length;
    show(screens[state.index].screen);
    schedule();
  }

  const rotation = document.getElementById("rotation");
  function showRotation() {
    if (config.pin) { rotation.hidden = false; rotation.textContent = T.pinned; return; }
    const left = state.pausedUntil - Date.now();
    rotation.hidden = left <= 0;
    rotation.textContent = left === Infinity ? T.pausedHere : T.paused.replace("%s", Math.ceil(left / 1000));
  }
  setInterval(showRotation, 1000);

  function pause() {
    if (config.paused) return;  // started paused: stays paused
    state.pausedUntil = Date.now() + config.resumeAfterMs;
    showRotation();
  }

  document.addEventListener("keydown", (event) => {
    if (!document.getElementById("drill").hidden) { if (event.key === "Escape") closeDrill(); else pause(); return; }
    if (!state.playlist || config.pin) return;
    const moves = { ArrowRight: 1, PageDown: 1, ArrowDown: 1, ArrowLeft: -1, PageUp: -1, ArrowUp: -1 };
    if (event.key in moves) { event.preventDefault(); pause(); step(moves[event.key]); }
    else if (event.key === "Home") { event.preventDefault(); pause(); step(-state.index); }
    else if (event.key === " " || event.key === "p") {
      event.preventDefault();
      state.pausedUntil = paused() ? 0 : Date.now() + config.resumeAfterMs;
      showRotation();
    }
  });
  document.addEventListener("click", pause);

  // --- drill-down: the figure's reports open over the wall, which comes back -------------------
  const drillNode = document.getElementById("drill");
  let drillTimer = null;
  function drill(url, title) {
    pause();
    document.getElementById("drill-title").textContent = title;
    document.getElementById("drill-frame").src = url;
    drillNode.hidden = false;
    armDrillReturn();
  }
  function armDrillReturn() { clearTimeout(drillTimer); drillTimer = setTimeout(closeDrill, config.resumeAfterMs); }
  function closeDrill() {
    clearTimeout(drillTimer);
    drillNode.hidden = true;
    document.getElementById("drill-frame").src = "about:blank";
    state.pausedUntil = Math.min(state.pausedUntil, Date.now() + 5000);
  }
  document.getElementById("drill-close").addEventListener("click", (e) => { e.stopPropagation(); closeDrill(); });
  drillNode.addEventListener("pointermove", armDrillReturn);

  // --- map: the units' outlines from the project's own data, a choropleth, markers by state ------
  const map = window.L ? window.L.map("map", { zoomControl: false, attributionControl: false, zoomSnap: 0.25 })
    .setView(config.center, 10) : null;
  const mapState = { units: null, unitsLayer: null, points: new Map(), markers: null, choropleth: null };
  if (map && config.tiles) {
    // Optional, over the vector base: on a closed network the tiles fail and are dropped.
    const tiles = window.L.tileLayer(config.tiles, { maxZoom: 19, opacity: 0.35 });
    let failures = 0;
    tiles.on("tileerror", () => { failures += 1; if (failures >= 4) map.removeLayer(tiles); });
    tiles.addTo(map);
    window.L.control.attribution({ prefix: false }).addAttribution("© OpenStreetMap contributors").addTo(map);
  }
  // Which choropleth each screen colours the units by (the overview: overdue reports).
  const CHOROPLETH_FOR = { overview: "overdue", reports: "overdue", onestop: "late_rate", environment: "aqi" };
  const SHAPES = { reports: "report", traffic: "camera", security: "camera", environment: "station" };

  function fitMap() {
    if (!map) return;
    map.invalidateSize();
    // The legend sits over the map's lower left: keep what matters clear of it.
    const legend = document.getElementById("map-legend");
    const room = { paddingTopLeft: [8, 8], paddingBottomRight: [8, (legend ? legend.offsetHeight : 0) + 16] };
    if (mapState.units && mapState.units.bounds) { map.fitBounds(mapState.units.bounds, room); return; }
    // Without boundaries yet, frame what there is to see.
    const all = [...mapState.points.values()].flat().filter((p) => p.latitude !== null && p.longitude !== null);
    if (all.length) map.fitBounds(all.map((p) => [p.latitude, p.longitude]), { ...room, maxZoom: 13 });
  }

  async function loadUnitsMap() {
    if (!map) return;
    try { mapState.units = await getJson(config.unitsMapUrl); } catch (error) { return; }
    if (mapState.unitsLayer) mapState.unitsLayer.remove();
    mapState.unitsLayer = window.L.geoJSON(mapState.units, { style: unitStyle, interactive: false }).addTo(map);
    mapState.unitsLayer.bringToBack();
    drawLegend();
    if (!mapState.fitted) { fitMap(); mapState.fitted = true; }
  }

  function currentChoropleth() {
    const code = CHOROPLETH_FOR[state.view];
    return mapState.units && (mapState.units.layers || []).find((l) => l.code === code);
  }

  function unitStyle(feature) {
    const layer = currentChoropleth();
    const value = layer && feature.properties.values ? feature.properties.values[layer.code] : null;
    const band = layer && value ? layer.bands.find((b) => b.code === value.band) : null;
    const province = feature.properties.kind === "province";
    return {
      className: "unit unit-" + feature.properties.code,
      color: province ? "#9db3c9" : "#3d6a94", weight: province ? 2.5 : 1, opacity: 0.9,
      fillColor: band ? band.color : "#0c1d30", fillOpacity: province ? 0 : (band ? 0.55 : 0.25),
    };
  }

  async function loadPoints() {
    if (!map) return;
    for (const layer of layersConfig) {
      try { mapState.points.set(layer.code, await getJson(layer.url)); } catch (error) { /* keep the last */ }
    }
    if (!mapState.fitted && !(mapState.units && mapState.units.bounds)) fitMap();
    drawMarkers();
  }

  function pointState(code, point) {
    if (point.state) return point.state;
    return point.status === "offline" ? "offline" : point.status === "critical" ? (code === "reports" ? "urgent" : "incident") :
      point.status === "warning" ? "overdue" : code === "reports" ? "open" : "ok";
  }

  // Markers sized from the viewport; those closer than a marker's width fold into a count.
  function drawMarkers() {
    if (!map) return;
    if (mapState.markers) mapState.markers.remove();
    const size = parseFloat(getComputedStyle(document.documentElement).fontSize) * 1.1;
    const cell = size * 1.6;
    const buckets = new Map();
    const worst = ["urgent", "incident", "overdue", "offline", "open", "ok"];
    for (const [code, points] of mapState.points) {
      if (state.view !== "overview" && code !== state.view) continue;
      for (const point of points) {
        if (point.latitude === null || point.longitude === null) continue;
        const at = map.latLngToContainerPoint([point.latitude, point.longitude]);
        const key = code + ":" + Math.floor(at.x / cell) + ":" + Math.floor(at.y / cell);
        if (!buckets.has(key)) buckets.set(key, { code, points: [] });
        buckets.get(key).points.push(point);
      }
    }
    const markers = [];
    for (const { code, points } of buckets.values()) {
      const states = points.map((p) => pointState(code, p)).sort((a, b) => worst.indexOf(a) - worst.indexOf(b));
      const first = points[0];
      const shape = SHAPES[code] || "report";
      if (points.length === 1) {
        const band = first.band || (first.aqi && first.aqi.band);  // a station wears its AQI colour
        const color = band && band.color ? ' style="background:' + band.color + '"' : "";
        markers.push(window.L.marker([first.latitude, first.longitude], {
          icon: window.L.divIcon({ className: "", html: '<div class="marker shape-' + shape + " state-" + states[0] + '"' + color + "></div>", iconSize: [size, size] }),
          keyboard: false,
        }).bindTooltip(first.label || ""));
      } else {
        const lat = points.reduce((s, p) => s + p.latitude, 0) / points.length;
        const lng = points.reduce((s, p) => s + p.longitude, 0) / points.length;
        const big = size * 1.5;
        markers.push(window.L.marker([lat, lng], {
          icon: window.L.divIcon({ className: "", html: '<div class="marker-cluster marker state-' + states[0] + '" style="width:' + big +
            "px;height:" + big + 'px">' + points.length + "</div>", iconSize: [big, big] }),
          keyboard: false,
        }));
      }
    }
    mapState.markers = window.L.layerGroup(markers).addTo(map);
  }

  function drawLegend() {
    const legend = document.getElementById("map-legend");
    legend.replaceChildren();
    const layer = currentChoropleth();
    if (layer) {
      legend.appendChild(el("h3", "", layer.label + (layer.unit ? " (" + layer.unit + ")" : "")));
      const list = el("ul");
      for (const band of layer.bands) {
        const item = el("li");
        const swatch = el("span", "swatch"); swatch.style.background = band.color;
        item.appendChild(swatch); item.appendChild(document.createTextNode(band.label));
        list.appendChild(item);
      }
      legend.appendChild(list);
    }
    const codes = state.view === "overview" ? layersConfig.map((l) => l.code) : [state.view];
    const kinds = [];
    if (codes.includes("reports")) kinds.push(["report", "open"], ["report", "overdue"], ["report", "urgent"]);
    if (codes.includes("traffic") || codes.includes("security")) kinds.push(["camera", "ok"], ["camera", "offline"], ["camera", "incident"]);
    if (codes.includes("environment")) kinds.push(["station", "station"]);
    if (kinds.length) {
      legend.appendChild(el("h3", "", T.markers));
      const list = el("ul");
      for (const [shape, name] of kinds) {
        const item = el("li");
        const mark = el("span", "marker shape-" + shape + " state-" + name);
        item.appendChild(mark); item.appendChild(document.createTextNode(T.states[name]));
        list.appendChild(item);
      }
      legend.appendChild(list);
    }
    if (mapState.units && mapState.units.approximate) legend.appendChild(el("p", "note", T.approximate));
  }

  function showMapFor() {
    if (!map) return;
    if (mapState.unitsLayer) mapState.unitsLayer.setStyle(unitStyle);
    setTimeout(() => { map.invalidateSize(); fitMap(); drawMarkers(); }, 50);
    drawLegend();
  }

  let mapTimer = null;
  function refreshMapSoon() { clearTimeout(mapTimer); mapTimer = setTimeout(() => { loadPoints(); loadUnitsMap(); }, 2000); }
  if (map) map.on("zoomend", drawMarkers);

  // --- start ---------------------------------------------------------------------------------
  loadSnapshot();
  loadUnitsMap();
  loadPoints();
  setInterval(() => { loadPoints(); loadUnitsMap(); }, config.snapshotEveryMs);
  window.IOC.live.connect({
    path: config.socketPath,
    onState: setConnection,
    onConnect: loadSnapshot,
    onMessage: (message) => { if (state.loading) state.buffered.push(message); else apply(message); },
  });
  setInterval(loadSnapshot, config.snapshotEveryMs);
})();
