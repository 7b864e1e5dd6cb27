// Field reports as staff screens show them: level badge, countdown to the deadline that matters
// now, and the full report (description, photos, answers, timeline). Used by the console, the
// workspace and the report pages.
(function () {
  "use strict";
  const { T, el, when, duration } = window.IOC.staff;

  // The deadline that matters now: the answer until there is one, then the resolution.
  function nextDeadline(report) {
    return report.first_answered_at ? report.resolution_due_at : report.response_due_at;
  }

  // The share of the deadline window still left: 1 just received, 0 at the deadline, below 0 once
  // overdue; null without a deadline. The queue API orders by the same figure (reports.selectors).
  function timeLeftShare(report, now) {
    const due = nextDeadline(report);
    if (!due) return null;
    const end = new Date(due).getTime();
    const span = end - new Date(report.deadline_started_at || report.received_at).getTime();
    return span ? (end - (now || Date.now())) / span : null;
  }

  // "2 h 10 min left" after a bar as long as the share of the window left, both coloured by it, so
  // a list reads at a glance; "overdue 15 min" in red.
  function countdown(report) {
    const due = nextDeadline(report);
    const node = el("span", "countdown");
    if (!due) return node;
    node.dataset.due = due;
    node.dataset.start = report.deadline_started_at || report.received_at;
    const bar = el("span", "share");
    bar.setAttribute("aria-hidden", "true");
    bar.appendChild(el("i"));
    node.append(bar, el("span", "left"));
    refreshCountdown(node);
    return node;
  }

  function refreshCountdown(node) {
    const due = new Date(node.dataset.due).getTime();
    const start = new Date(node.dataset.start).getTime();
    const left = due - Date.now();
    const share = (due - start) > 0 ? left / (due - start) : 0;
    node.dataset.state = left < 0 ? "overdue" : share < 0.25 ? "soon" : share < 0.5 ? "half" : "ok";
    node.querySelector(".share i").style.width = Math.round(100 * Math.max(0, Math.min(1, share))) + "%";
    node.querySelector(".left").textContent = left < 0 ? T.overdueBy + " " + duration(left) : T.left.replace("%s", duration(left));
    node.title = T.due + " " + when(node.dataset.due) + " · " + T.shareLeft.replace("%s", Math.max(0, Math.round(100 * share)) + "%");
  }
  setInterval(() => document.querySelectorAll(".countdown[data-due]").forEach(refreshCountdown), 15000);

  function levelBadge(level) {
    return el("span", "level level-" + level, T.levels[level] || level);
  }

  // The report's line in a list: level, code, category, and where it stands.
  function renderItem(report, node, where) {
    node.appendChild(levelBadge(report.level));
    const main = el("div", "main");
    main.appendChild(el("strong", "code", report.tracking_code));
    main.appendChild(el("span", "category", report.category_name));
    main.appendChild(el("span", "unit", where));
    node.appendChild(main);
    node.appendChild(countdown(report));
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
    container.appendChild(el("p", "where", (report.address ? report.address + " · " : "") + report.unit_name));
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

  const reportUrl = (id) => window.IOC.staff.config.reportUrl.replace("__id__", id);
  const describe = (report) => report.tracking_code + " → " + report.status_label;

  window.IOC.reports = { nextDeadline, timeLeftShare, countdown, levelBadge, renderItem, renderDetail, reportUrl, describe };
})();
