// What every staff screen shares: its settings and texts, small DOM and time helpers, the clock and
// connection badge, and one controller for a list / detail / step / live screen (`screen`) with one
// keyboard map (`keys`) and one live connection (`connect`). A screen configures them; it does not
// rebuild them. Settings come from the core's JSON (#staff-config) and the app page's (#page-config).
(function () {
  "use strict";
  const read = (id) => { const node = document.getElementById(id); return node ? JSON.parse(node.textContent) : {}; };
  const core = read("staff-config"), page = read("page-config");
  const config = { ...core, ...page, text: { ...core.text, ...(page.text || {}) } };
  const T = config.text;
  const locale = config.lang === "en" ? "en-GB" : "vi-VN";
  const api = window.IOC.api;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  const dateFormat = new Intl.DateTimeFormat(locale, {
    timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit",
  });
  function when(iso) { return iso ? dateFormat.format(new Date(iso)) : "–"; }

  function duration(ms) {
    const minutes = Math.round(Math.abs(ms) / 60000);
    if (minutes < 60) return minutes + " " + T.minutes;
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + " " + T.hours + " " + (minutes % 60) + " " + T.minutes;
    return Math.floor(hours / 24) + " " + T.days;
  }

  function clock(node) {
    const format = new Intl.DateTimeFormat(locale, { timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit", minute: "2-digit" });
    const tick = () => { node.textContent = format.format(new Date()); };
    tick(); setInterval(tick, 10000);
  }

  function connectionBadge(node) {
    return (state) => { node.dataset.state = state; node.textContent = T[state]; };
  }

  function flash(node, message, kind) {
    node.textContent = message || "";
    node.dataset.kind = kind || "info";
  }

  function keyHint(key, text) {
    const hint = el("span", "key-hint");
    hint.appendChild(el("kbd", "", key));
    hint.appendChild(document.createTextNode(" " + text));
    return hint;
  }

  // One list with one selected item and its detail. Options:
  //   list, count, status: elements; empty: text of an empty list
  //   listUrl: GET returning {results}; itemUrl(id): GET of one item; stepUrl(id, name): POST of a step
  //   order(a, b); keep(item): still belongs in the list; renderItem(item, li); renderDetail(data)
  //   liveType: the message type carrying an item's absolute state; reloadOnLive: re-read the list
  //     instead (when a message alone cannot tell whether the item belongs here)
  //   itemClass: the class of an item's <li> ("queue-item")
  //   onSelect(id): as the selection changes; onRender(items): after the list is drawn
  //   onStep(data): after a step succeeded; loadDetail: false when the list item is the detail;
  //   autoSelect: false to leave nothing selected until the person moves
  function screen(options) {
    const state = { items: new Map(), selected: null, detail: null };
    const listNode = options.list;

    function ordered() { return [...state.items.values()].sort(options.order); }

    function render() {
      const items = ordered();
      listNode.replaceChildren();
      if (options.count) options.count.textContent = items.length;
      if (!items.length) listNode.appendChild(el("li", "empty", options.empty));
      for (const item of items) {
        const node = el("li", options.itemClass || "queue-item");
        node.dataset.id = item.id;
        node.tabIndex = -1;
        node.setAttribute("role", "option");
        node.setAttribute("aria-selected", String(item.id === state.selected));
        options.renderItem(item, node);
        node.addEventListener("click", () => select(item.id));
        listNode.appendChild(node);
      }
      const first = items.length && options.autoSelect !== false ? items[0].id : null;
      if (state.selected && !state.items.has(state.selected)) select(first);
      else if (!state.selected && first) select(first);
      if (options.onRender) options.onRender(items);
    }

    async function load() {
      const response = await api("GET", options.listUrl);
      if (!response.ok) return;
      state.items = new Map(response.data.results.map((item) => [item.id, item]));
      render();
    }

    async function select(id) {
      state.selected = id;
      listNode.querySelectorAll("li[data-id]").forEach((n) => n.setAttribute("aria-selected", String(Number(n.dataset.id) === id)));
      const current = listNode.querySelector('li[aria-selected="true"]');
      if (current) current.scrollIntoView({ block: "nearest" });
      if (options.onSelect) options.onSelect(id);
      if (!id) { state.detail = null; options.renderDetail(null); return; }
      if (options.loadDetail === false) { state.detail = state.items.get(id); options.renderDetail(state.detail); return; }
      const response = await api("GET", options.itemUrl(id));
      if (state.selected !== id || !response.ok) return;
      state.detail = response.data;
      options.renderDetail(state.detail);
    }

    function move(delta) {
      const ids = ordered().map((item) => item.id);
      if (!ids.length) return;
      select(ids[Math.max(0, Math.min(ids.length - 1, ids.indexOf(state.selected) + delta))]);
    }

    // Post a step on the selected item; a conflict (someone else acted first) re-reads the list.
    async function step(name, body) {
      const id = state.selected;
      if (!id) return false;
      if (options.status) flash(options.status, T.working);
      const response = await api("POST", options.stepUrl(id, name), body || {});
      if (!response.ok) {
        if (options.status) {
          flash(options.status, window.IOC.errorText(response.data, T.failed), response.status === 409 ? "conflict" : "error");
        }
        if (response.status === 409) load();
        return false;
      }
      if (options.status) flash(options.status, T.done + ": " + (options.describe ? options.describe(response.data) : ""), "ok");
      if (options.reloadOnLive) await load(); else apply({ type: options.liveType, data: response.data });
      if (state.selected === id && state.items.has(id)) select(id);
      if (options.onStep) options.onStep(response.data);
      return true;
    }

    let reloadTimer = null;
    function apply(message) {
      if (message.type !== options.liveType) return;
      if (options.reloadOnLive) {
        clearTimeout(reloadTimer);
        reloadTimer = setTimeout(async () => {
          await load();
          if (state.selected === message.data.id && state.items.has(message.data.id)) select(message.data.id);
        }, 300);
        return;
      }
      const item = message.data;
      const known = state.items.has(item.id);
      if (options.keep(item)) state.items.set(item.id, item); else state.items.delete(item.id);
      render();
      if (!known && options.keep(item) && options.onArrival) options.onArrival(item);
    }

    return { state, load, render, select, move, step, apply, ordered };
  }

  // One keyboard map per page. Letters work in either case (hints show capitals); keys typed in a
  // field stay in the field; `before(event)` sees every key first (e.g. Enter in a chooser).
  function keys(map, before) {
    document.addEventListener("keydown", (event) => {
      if (before && before(event)) return;
      const target = event.target;
      if (["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) || event.ctrlKey || event.metaKey || event.altKey) return;
      const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      const handler = map[key];
      if (handler) { event.preventDefault(); handler(); }
    });
  }

  // One live connection for the page's screens: each reloads on (re)connect and every minute (a
  // message missed while away is never lost for long), and applies the messages it knows.
  function connect(...screens) {
    window.IOC.live.connect({
      onState: connectionBadge(document.getElementById("connection")),
      onConnect: () => screens.forEach((s) => s.load()),
      onMessage: (message) => screens.forEach((s) => s.apply(message)),
    });
    setInterval(() => screens.forEach((s) => s.load()), 60000);
  }

  clock(document.getElementById("clock"));

  window.IOC.staff = { config, T, el, when, duration, connectionBadge, flash, keyHint, screen, keys, connect };
})();
