// The live connection every staff screen shares: /ws/live/ with reconnect and backoff.
// A screen gives callbacks; on every (re)connect it should reload its state from the API,
// then apply messages, each of which carries absolute state.
(function () {
  "use strict";
  function connect(options) {
    const path = options.path || "/ws/live/";
    let socket = null, attempt = 0, pingTimer = null;
    function open() {
      options.onState && options.onState(attempt === 0 ? "connecting" : "disconnected");
      const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + window.location.host + path);
      socket.onopen = () => {
        attempt = 0;
        options.onState && options.onState("connected");
        options.onConnect && options.onConnect();
        pingTimer = setInterval(() => socket.readyState === 1 && socket.send('{"type":"ping"}'), 25000);
      };
      socket.onmessage = (event) => {
        const message = JSON.parse(event.data);
        if (!message.type || message.type === "pong" || message.type === "ioc.hello") return;
        options.onMessage(message);
      };
      socket.onclose = (event) => {
        clearInterval(pingTimer);
        options.onState && options.onState("disconnected");
        if (event.code === 4401) { window.location.reload(); return; }
        // 1013: the server is up but its live layer is not yet; it will be within seconds.
        attempt = event.code === 1013 ? 1 : attempt + 1;
        const delay = Math.min(30000, 1000 * 2 ** Math.min(attempt - 1, 5)) * (0.75 + Math.random() / 2);
        setTimeout(open, delay);
      };
    }
    open();
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // JSON API call with the session cookie; resolves to {ok, status, data}.
  async function api(method, url, body) {
    const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body instanceof FormData) {
      init.body = body;
      init.headers["X-CSRFToken"] = csrfToken();
    } else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRFToken"] = csrfToken();
    } else if (method !== "GET") {
      init.headers["X-CSRFToken"] = csrfToken();
    }
    const response = await fetch(url, init);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return { ok: response.ok, status: response.status, data };
  }

  // The first human-readable message in a DRF error body.
  function errorText(data, fallback) {
    if (!data) return fallback;
    if (typeof data === "string") return data;
    if (data.detail) return data.detail;
    for (const value of Object.values(data)) {
      if (Array.isArray(value) && value.length) return String(value[0]);
      if (typeof value === "string") return value;
    }
    return fallback;
  }

  window.IOC = window.IOC || {};
  window.IOC.live = { connect };
  window.IOC.api = api;
  window.IOC.errorText = errorText;
})();
