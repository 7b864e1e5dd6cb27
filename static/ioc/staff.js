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
  //   afterStep: "next" to select the item that was below one leaving the list (acted on here or
  //     elsewhere), instead of the first
  //   pageSize: read the list in pages of the server's order (`order` must repeat it); `count` then
  //     shows the server's true count, `more` (a button) says how many are not shown yet and loads
  //     them, as does moving down to the end. listUrl may be a function (filters) returning the URL
  //   reloadOnLive may be a function, asked at each message
  function screen(options) {
    const state = { items: new Map(), selected: null, detail: null, total: 0, wanted: options.pageSize || 0, order: [] };
    const listNode = options.list;
    const paged = Boolean(options.pageSize);
    const reloads = () => (typeof options.reloadOnLive === "function" ? options.reloadOnLive() : options.reloadOnLive);
    const listUrl = () => (typeof options.listUrl === "function" ? options.listUrl() : options.listUrl);
    const MAX_PAGE = 1000;  // the API's largest page (ioc/api/pagination.py)

    function ordered() { return [...state.items.values()].sort(options.order); }
    function rest() { return Math.max(0, state.total - state.items.size); }

    // The item to select when the selected one has left: the one that was below it, else above it.
    function neighbour(gone) {
      const at = state.order.indexOf(gone);
      if (at < 0) return null;
      const below = state.order.slice(at + 1).find((id) => state.items.has(id));
      return below !== undefined ? below : [...state.order.slice(0, at)].reverse().find((id) => state.items.has(id)) ?? null;
    }

    function render() {
      const items = ordered();
      listNode.replaceChildren();
      if (options.count) options.count.textContent = paged ? state.total : items.length;
      if (options.more) {
        options.more.hidden = !paged || !rest();
        options.more.textContent = T.more.replace("%s", rest());
      }
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
      if (state.selected && !state.items.has(state.selected)) {
        const next = options.afterStep === "next" ? neighbour(state.selected) : null;
        select(next !== null ? next : first);
      } else if (!state.selected && first) select(first);
      state.order = items.map((item) => item.id);
      if (options.onRender) options.onRender(items);
    }

    function pageUrl(limit, offset) {
      const url = listUrl();
      return url + (url.includes("?") ? "&" : "?") + "limit=" + limit + "&offset=" + offset;
    }

    // The list as the server orders it: every page read so far, read again from the top, so an item
    // that moved between pages is neither lost nor shown twice.
    let reading = null;
    async function load() {
      if (!paged) {
        const response = await api("GET", listUrl());
        if (!response.ok) return;
        state.items = new Map(response.data.results.map((item) => [item.id, item]));
        render();
        return;
      }
      const wanted = state.wanted;
      const read = (async () => {
        const items = [];
        let total = 0;
        for (let offset = 0; offset < wanted; offset += MAX_PAGE) {
          const response = await api("GET", pageUrl(Math.min(MAX_PAGE, wanted - offset), offset));
          if (!response.ok) return null;
          items.push(...response.data.results);
          total = response.data.count;
          if (!response.data.next) break;
        }
        return { items, total };
      })();
      reading = read;
      const got = await read;
      if (!got || reading !== read) return;  // a newer read (another filter, a page more) wins
      state.items = new Map(got.items.map((item) => [item.id, item]));
      state.total = got.total;
      render();
    }

    async function loadMore() {
      if (!paged || !rest() || state.loadingMore) return;
      state.loadingMore = true;
      state.wanted = state.items.size + options.pageSize;
      try { await load(); } finally { state.loadingMore = false; }
    }

    // Start again from the first page (the filters changed).
    function reset() { state.wanted = options.pageSize || 0; state.items = new Map(); state.total = 0; state.order = []; }

    if (options.more) {
      options.more.hidden = true;
      options.more.addEventListener("click", loadMore);
      if (window.IntersectionObserver) {  // scrolled down to it: the next page, without a click
        new IntersectionObserver((seen) => { if (seen.some((e) => e.isIntersecting)) loadMore(); }).observe(options.more);
      }
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

    async function move(delta) {
      let ids = ordered().map((item) => item.id);
      if (!ids.length) return;
      const at = ids.indexOf(state.selected);
      if (delta > 0 && paged && rest() && at + delta >= ids.length - 5) {  // near the end: read on
        const loading = loadMore();
        if (at + delta >= ids.length) { await loading; ids = ordered().map((item) => item.id); }
      }
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
      if (reloads()) await load(); else apply({ type: options.liveType, data: response.data });
      if (state.selected === id && state.items.has(id)) select(id);
      if (options.onStep) options.onStep(response.data);
      return true;
    }

    let reloadTimer = null;
    function reloadSoon(id) {
      clearTimeout(reloadTimer);
      reloadTimer = setTimeout(async () => {
        await load();
        if (id !== undefined && state.selected === id && state.items.has(id)) select(id);
      }, 300);
    }

    function apply(message) {
      if (message.type !== options.liveType) return;
      if (reloads()) { reloadSoon(message.data.id); return; }
      const item = message.data;
      const known = state.items.has(item.id);
      const kept = options.keep(item);
      if (paged && !known && rest()) {
        // Not among the pages read: whether it belongs to them, or was on a later page and has now
        // left, only the server can tell (its order and its count).
        reloadSoon();
        if (kept && options.onArrival) options.onArrival(item);
        return;
      }
      if (kept) state.items.set(item.id, item); else state.items.delete(item.id);
      if (paged) state.total += (kept && !known ? 1 : 0) - (!kept && known ? 1 : 0);
      render();
      if (!known && kept && options.onArrival) options.onArrival(item);
    }

    return { state, load, loadMore, reset, render, select, move, step, apply, ordered };
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
