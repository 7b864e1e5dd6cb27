// Hotline intake: an operator turns a phone call into a triaged report without the mouse.
//   Tab / Enter: next field (in a list: take the highlighted choice) · ↓ ↑: move in a list
//   1/2/3 on the level: urgent/complex/normal · Ctrl+Enter anywhere, Enter on the level or the
//   unit: create · Esc: close a list
(function () {
  "use strict";
  const { config, T, el, flash, connect } = window.IOC.staff;
  const api = window.IOC.api;
  const form = document.getElementById("hotline-form");
  const status = document.getElementById("hotline-status");
  const result = document.getElementById("hotline-result");
  const phone = document.getElementById("hl-phone");
  const name = document.getElementById("hl-name");
  const description = document.getElementById("hl-description");
  const categoryInput = document.getElementById("hl-category");
  const placeInput = document.getElementById("hl-place");
  const levels = document.getElementById("hl-level");
  const assign = document.getElementById("hl-assign");
  const english = config.lang === "en";
  let categories = [];
  let busy = false;
  let levelChosen = false; // by the operator, for this call

  // Lower case without diacritics, as the server folds: "Ổ gà" and "o ga" are the same words.
  function fold(text) {
    return (text || "").replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .toLowerCase().replace(/[^0-9a-z]+/g, " ").trim();
  }

  // A type-ahead: an input and its listbox. `source(text)` gives the items (or a promise of them);
  // arrows move the highlight; Enter or Tab takes it and moves on; typing again drops the choice.
  function combo(input, list, { source, label, detail, onChoose }) {
    const box = { chosen: null, items: [], active: -1, pending: Promise.resolve() };
    let round = 0;

    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); }

    function draw() {
      list.replaceChildren();
      if (!input.value.trim()) { close(); return; }
      if (!box.items.length) list.appendChild(el("li", "hl-none", T.noMatch));
      box.items.forEach((item, i) => {
        const option = el("li", "hl-option", label(item));
        option.id = list.id + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", String(i === box.active));
        const more = detail(item);
        if (more) option.appendChild(el("small", "", more));
        // The mouse still works: mousedown keeps the focus in the input.
        option.addEventListener("mousedown", (event) => { event.preventDefault(); box.active = i; take(); });
        list.appendChild(option);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      if (box.active >= 0) input.setAttribute("aria-activedescendant", list.id + "-" + box.active);
    }

    function refresh() {
      const mine = ++round;
      box.pending = Promise.resolve(source(input.value)).then((items) => {
        if (mine !== round) return;
        box.items = items || [];
        box.active = box.items.length ? 0 : -1;
        draw();
      });
      return box.pending;
    }

    function take() {
      const item = box.items[box.active];
      if (!item) return false;
      box.chosen = item;
      input.value = label(item);
      close();
      onChoose(item);
      return true;
    }

    function clear() { round++; box.chosen = null; box.items = []; box.active = -1; input.value = ""; close(); onChoose(null); }

    input.addEventListener("input", () => { if (box.chosen) { box.chosen = null; onChoose(null); } refresh(); });
    input.addEventListener("blur", close);
    input.addEventListener("keydown", async (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!box.items.length) return;
        box.active = (box.active + (event.key === "ArrowDown" ? 1 : -1) + box.items.length) % box.items.length;
        draw();
      } else if (event.key === "Escape") {
        close();
      } else if ((event.key === "Enter" && !event.ctrlKey && !event.metaKey) || (event.key === "Tab" && !event.shiftKey)) {
        // Move on at once, so the keys typed next land in the next field; results of the last
        // letters may still be on their way: the highlighted one is taken when they arrive.
        event.preventDefault();
        event.stopPropagation();
        next(input);
        await box.pending;
        if (!box.chosen && input.value.trim()) take();
      }
    });
    return { box, clear, take, refresh };
  }

  // --- the category ------------------------------------------------------------------------------

  const categoryName = (c) => (english && c.name_en) || c.name;
  const category = combo(categoryInput, document.getElementById("hl-category-list"), {
    source: (text) => {
      const words = fold(text).split(" ").filter(Boolean);
      if (!words.length) return [];
      const found = categories.filter((c) => c.words.includes(words[0]) && words.every((w) => c.words.includes(w)));
      // Names that start with what was typed come first.
      const typed = words.join(" ");
      return found.sort((a, b) => (a.folded.startsWith(typed) ? 0 : 1) - (b.folded.startsWith(typed) ? 0 : 1)).slice(0, 8);
    },
    label: categoryName,
    detail: (c) => c.group,
    onChoose: (c) => { if (c && !levelChosen) setLevel(c.default_level); }, // never over the operator's choice
  });

  async function loadCategories() {
    const response = await api("GET", config.categoriesUrl);
    if (!response.ok) return;
    categories = response.data.map((c) => ({
      ...c, folded: fold(categoryName(c)), words: fold([c.name, c.name_en, c.group, c.code].join(" ")),
    }));
  }

  // --- the place -----------------------------------------------------------------------------------

  const placeNote = document.getElementById("hl-place-chosen");
  const place = combo(placeInput, document.getElementById("hl-place-list"), {
    source: async (text) => {
      if (!fold(text)) return [];
      const response = await api("GET", config.placesUrl + "?q=" + encodeURIComponent(text));
      return response.ok ? response.data.results : [];
    },
    label: (p) => p.label,
    detail: (p) => (p.kind === "unit" ? T.ward : p.unit_name),
    onChoose: (p) => { placeNote.textContent = p ? T.chosenPlace + " " + p.unit_name : ""; },
  });

  // --- the level and the unit ---------------------------------------------------------------------

  const levelInputs = [...levels.querySelectorAll("input[name=level]")];
  function setLevel(value) { levelInputs.forEach((input) => { input.checked = input.value === value; }); }
  function level() { const checked = levelInputs.find((input) => input.checked); return checked ? checked.value : null; }
  levels.addEventListener("keydown", (event) => {
    const index = ["1", "2", "3"].indexOf(event.key);
    if (index < 0) return;
    event.preventDefault();
    levelInputs[index].checked = true;
    levelInputs[index].focus();
    levelChosen = true;
  });
  levels.addEventListener("change", () => { levelChosen = true; });

  async function loadUnits() {
    const response = await api("GET", config.unitsUrl);
    if (!response.ok) return;
    const groups = [["department", T.departments], ["territorial", T.wards], ["other", T.others]];
    const kindOf = (u) => (u.kind === "department" ? "department" : ["ward", "commune", "special_zone"].includes(u.kind) ? "territorial" : "other");
    for (const [kind, title] of groups) {
      const units = response.data.results.filter((u) => kindOf(u) === kind).sort((a, b) => a.name.localeCompare(b.name, "vi"));
      if (!units.length) continue;
      const group = el("optgroup");
      group.label = title;
      units.forEach((u) => { const option = el("option", "", u.name); option.value = u.code; group.appendChild(option); });
      assign.appendChild(group);
    }
  }

  // --- moving through the form --------------------------------------------------------------------

  // The stops in the order the caller is asked; the level is its checked radio (or the first).
  function stops() {
    const radio = levelInputs.find((input) => input.checked) || levelInputs[0];
    return [phone, name, categoryInput, description, placeInput, radio, assign, form.querySelector("button[type=submit]")];
  }

  function next(from) {
    const list = stops();
    const at = levelInputs.includes(from) ? 5 : list.indexOf(from);
    const target = list[Math.min(at + 1, list.length - 1)];
    if (target) target.focus();
  }

  form.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    if (event.ctrlKey || event.metaKey) { event.preventDefault(); submit(); return; }
    const target = event.target;
    if (target === description) return; // a new line in the description
    event.preventDefault();
    if (target === assign || levelInputs.includes(target) || target.type === "submit") submit();
    else next(target);
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });

  // --- sending -------------------------------------------------------------------------------------

  // Where each refusal is shown: the field to fix gets the focus.
  const FIELD_OF = {
    reporter_phone: phone, reporter_name: name, category: categoryInput,
    description, unit: placeInput, location: placeInput,
    address: placeInput, latitude: placeInput,
    longitude: placeInput, level: levelInputs[0], assign_to: assign,
  };

  function body() {
    const cat = category.box.chosen;
    const where = place.box.chosen;
    const typedPlace = placeInput.value.trim();
    const data = {
      reporter_phone: phone.value.trim(),
      reporter_name: name.value.trim(),
      category: cat ? cat.code : categoryInput.value.trim(),
      description: description.value.trim(),
      level: level(),
      assign_to: assign.value,
      address: "", unit: "", latitude: null, longitude: null,
    };
    if (where && where.kind === "place") {
      Object.assign(data, { address: where.label, unit: where.unit, latitude: where.latitude, longitude: where.longitude });
    } else if (where) {
      data.unit = where.unit;
    } else {
      data.address = typedPlace; // no ward chosen: the server says so
    }
    return data;
  }

  async function submit() {
    if (busy) return;
    // A choice highlighted but not yet taken (Ctrl+Enter straight from a list) counts as taken.
    await Promise.all([category.box.pending, place.box.pending]);
    if (!category.box.chosen && categoryInput.value.trim()) category.take();
    if (!place.box.chosen && placeInput.value.trim()) place.take();
    busy = true;
    Object.values(FIELD_OF).forEach((field) => field.removeAttribute("aria-invalid"));
    flash(status, T.sending);
    const response = await api("POST", config.takeCallUrl, body());
    busy = false;
    if (!response.ok) {
      flash(status, T.failed + " " + window.IOC.errorText(response.data, ""), "error");
      const field = response.data && Object.keys(response.data).map((key) => FIELD_OF[key]).find(Boolean);
      if (field) { field.setAttribute("aria-invalid", "true"); field.focus(); }
      return;
    }
    showResult(response.data);
    clearForm();
    flash(status, T.created, "ok");
    phone.focus();
  }

  function showResult(data) {
    result.replaceChildren();
    const code = el("p", "hl-code");
    code.appendChild(el("span", "hl-code-label", T.trackingCode));
    code.appendChild(el("output", "hl-code-value", data.tracking_code));
    result.appendChild(code);
    result.appendChild(el("p", "hl-sms", T.smsSent + " " + data.sms_to));
    const triage = el("p", "hl-triage");
    triage.appendChild(el("span", "level level-" + data.level, T.levels[data.level] || data.level));
    triage.appendChild(document.createTextNode(" " + data.unit_name + " · " +
      (data.assigned_unit_name ? T.assignedTo + " " + data.assigned_unit_name : T.accepted)));
    result.appendChild(triage);
    const secret = el("p", "hl-secret", T.secret + ": ");
    secret.appendChild(el("code", "", data.secret));
    result.appendChild(secret);
    const link = el("a", "", T.openReport);
    link.href = config.reportPageUrl.replace("__id__", data.id);
    result.appendChild(link);
  }

  function clearForm() {
    phone.value = ""; name.value = ""; description.value = "";
    category.clear(); place.clear();
    setLevel(null);
    levelChosen = false;
    assign.value = "";
  }

  loadCategories();
  loadUnits();
  connect(); // no list to keep live here; the badge still tells the operator the centre is reachable
  phone.focus();
})();
