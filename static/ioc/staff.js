// Shared pieces of the staff screens (console, workspace, report pages): text, countdowns,
// report detail, clock and connection badge. Text comes from the page's JSON config.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("staff-config").textContent);
  const T = config.text;
  const locale = config.lang === "en" ? "en-GB" : "vi-VN";

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

  // The deadline that matters now: the answer until there is one, then the resolution.
  function nextDeadline(report) {
    return report.first_answered_at ? report.resolution_due_at : report.response_due_at;
  }

  // "2 h 10 min left" coloured by the share of the window left; "overdue 15 min" in red.
  function countdown(report) {
    const due = nextDeadline(report);
    const node = el("span", "countdown");
    if (!due) return node;
    node.dataset.due = due;
    node.dataset.start = report.received_at;
    refreshCountdown(node);
    return node;
  }

  function refreshCountdown(node) {
    const due = new Date(node.dataset.due).getTime();
    const start = new Date(node.dataset.start).getTime();
    const now = Date.now();
    const left = due - now;
    const share = (due - start) > 0 ? left / (due - start) : 0;
    node.dataset.state = left < 0 ? "overdue" : share < 0.25 ? "soon" : share < 0.5 ? "half" : "ok";
    node.textContent = left < 0 ? T.overdueBy + " " + duration(left) : T.left.replace("%s", duration(left));
    node.title = T.due + " " + when(node.dataset.due);
  }
  setInterval(() => document.querySelectorAll(".countdown[data-due]").forEach(refreshCountdown), 15000);

  function levelBadge(level) {
    return el("span", "level level-" + level, T.levels[level] || level);
  }

  // The full report as staff see it: description, photos, answers, timeline (directives stand out).
  function renderDetail(container, report) {
    container.replaceChildren();
    const head = el("div", "detail-head");
    head.appendChild(levelBadge(report.level));
    head.appendChild(el("strong", "code", report.tracking_code));
    head.appendChild(el("span", "status status-" + report.status, report.status_label));
    container.appendChild(head);
    container.appendChild(el("h2", "detail-title", report.category_name));
    const where = el("p", "where", (report.address ? report.address + " · " : "") + report.unit_name);
    container.appendChild(where);
    if (report.assigned_unit_name) container.appendChild(el("p", "assigned", T.assignedTo + " " + report.assigned_unit_name));
    const deadlines = el("p", "deadlines");
    deadlines.appendChild(el("span", "", T.answerDue + " " + when(report.response_due_at) + " · " +
      T.resolutionDue + " " + when(report.resolution_due_at) + " "));
    deadlines.appendChild(countdown(report));
    container.appendChild(deadlines);
    container.appendChild(el("p", "description", report.description));
    if (report.reporter && (report.reporter.name || report.reporter.phone || report.reporter.email)) {
      const who = [report.reporter.name, report.reporter.phone, report.reporter.email].filter(Boolean).join(" · ");
      container.appendChild(el("p", "reporter", T.reporter + " " + who));
    }
    if (report.photos && report.photos.length) {
      const photos = el("div", "photos");
      for (const url of report.photos) {
        const link = el("a");
        link.href = url; link.target = "_blank"; link.rel = "noopener";
        const img = el("img"); img.src = url; img.alt = T.photo; img.loading = "lazy";
        link.appendChild(img);
        photos.appendChild(link);
      }
      container.appendChild(photos);
    }
    if (report.answers && report.answers.length) {
      container.appendChild(el("h3", "", T.answers));
      for (const answer of report.answers) {
        const box = el("div", "answer");
        box.appendChild(el("div", "meta", answer.unit_name + " · " + when(answer.at)));
        box.appendChild(el("p", "", answer.text));
        container.appendChild(box);
      }
    }
    if (report.timeline) {
      container.appendChild(el("h3", "", T.timeline));
      const list = el("ol", "timeline");
      for (const event of report.timeline) {
        const item = el("li", "event event-" + event.action + (event.public ? "" : " internal"));
        item.appendChild(el("span", "at", when(event.at)));
        item.appendChild(el("span", "what", event.label + (event.actor_label ? " · " + event.actor_label : "")));
        if (event.note) item.appendChild(el("span", "note", event.note));
        list.appendChild(item);
      }
      container.appendChild(list);
    }
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

  window.IOC.staff = { config, T, el, when, countdown, levelBadge, renderDetail, clock, connectionBadge, flash,
    nextDeadline };
})();
