/* The citizens' portal: location picker and photo previews on the report form, the public map,
   copy buttons on the confirmation. Every page works without this script except the maps. */
(function () {
  "use strict";

  function mapConfig() {
    var node = document.getElementById("map-config");
    return node ? JSON.parse(node.textContent) : null;
  }

  function baseMap(element, config) {
    var map = L.map(element, { scrollWheelZoom: false, tap: true });
    L.tileLayer(config.tiles, { maxZoom: 19, attribution: config.attribution || "" }).addTo(map);
    map.fitBounds(config.bounds, { padding: [16, 16], maxZoom: 14 });
    return map;
  }

  // --- report form: where is it? ---------------------------------------------------------------
  function reportForm(form) {
    var locator = document.getElementById("locator");
    var lat = document.getElementById("id_latitude");
    var lng = document.getElementById("id_longitude");
    var status = document.getElementById("location-status");
    var clear = document.getElementById("clear-location");
    var gps = document.getElementById("use-gps");
    var config = mapConfig();
    var map = null;
    var marker = null;

    function show(latitude, longitude, accuracy) {
      lat.value = latitude.toFixed(6);
      lng.value = longitude.toFixed(6);
      var text = locator.dataset.msgLocated + ": " + lat.value + ", " + lng.value;
      if (accuracy) text += " (± " + Math.round(accuracy) + " m)";
      status.textContent = text;
      clear.hidden = false;
      if (!map) return;
      var point = L.latLng(latitude, longitude);
      if (marker) {
        marker.setLatLng(point);
      } else {
        var icon = L.icon({
          iconUrl: locator.dataset.icon,
          iconRetinaUrl: locator.dataset.icon2x,
          shadowUrl: locator.dataset.shadow,
          iconSize: [25, 41],
          iconAnchor: [12, 41],
          shadowSize: [41, 41],
        });
        marker = L.marker(point, { draggable: true, icon: icon, keyboard: true }).addTo(map);
        marker.on("dragend", function () {
          var moved = marker.getLatLng();
          show(moved.lat, moved.lng);
        });
      }
      map.setView(point, Math.max(map.getZoom(), 17));
    }

    function reset() {
      lat.value = "";
      lng.value = "";
      status.textContent = locator.dataset.msgNone;
      clear.hidden = true;
      if (marker) {
        map.removeLayer(marker);
        marker = null;
      }
    }

    locator.hidden = false;
    if (window.L && config) {
      map = baseMap(document.getElementById("pick-map"), config);
      map.on("click", function (event) {
        show(event.latlng.lat, event.latlng.lng);
      });
    } else {
      document.getElementById("pick-map").hidden = true;
    }
    if (!("geolocation" in navigator) || !window.isSecureContext) {
      gps.hidden = true; // browsers give the position only to secure (https) pages
    }
    gps.addEventListener("click", function () {
      status.textContent = locator.dataset.msgLocating;
      gps.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          gps.disabled = false;
          show(position.coords.latitude, position.coords.longitude, position.coords.accuracy);
        },
        function () {
          gps.disabled = false;
          status.textContent = locator.dataset.msgDenied;
        },
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
      );
    });
    clear.addEventListener("click", reset);
    var startLat = parseFloat(lat.value);
    var startLng = parseFloat(lng.value);
    if (isFinite(startLat) && isFinite(startLng)) show(startLat, startLng);
    else reset();

    // A category that needs a way to reply says so next to the contact fields.
    var category = document.getElementById("id_category");
    var needsContact = document.getElementById("needs-contact");
    function contactNote() {
      var option = category.options[category.selectedIndex];
      needsContact.hidden = !(option && option.dataset.needsContact);
    }
    category.addEventListener("change", contactNote);
    contactNote();

    // Photos: previews, and the limits checked before a long upload.
    var photos = document.getElementById("id_photos");
    var previews = document.getElementById("photo-previews");
    var maxPhotos = parseInt(form.dataset.maxPhotos, 10);
    var maxBytes = parseInt(form.dataset.maxPhotoMb, 10) * 1024 * 1024;
    photos.addEventListener("change", function () {
      previews.textContent = "";
      var files = Array.prototype.slice.call(photos.files || []);
      var problem = "";
      if (files.length > maxPhotos) problem = form.dataset.msgTooMany;
      files.forEach(function (file) {
        if (file.size > maxBytes) problem = form.dataset.msgTooBig;
        if (!/^image\//.test(file.type)) return;
        var img = document.createElement("img");
        img.alt = file.name;
        img.src = URL.createObjectURL(file);
        img.onload = function () {
          URL.revokeObjectURL(img.src);
        };
        previews.appendChild(img);
      });
      photos.setCustomValidity(problem);
      if (problem) {
        var note = document.createElement("p");
        note.className = "field-error";
        note.textContent = problem;
        previews.prepend(note);
      }
    });

    // One press sends once, even on a slow connection. Sent from here, a refusal for sending too
    // often (429) or a server briefly away (5xx) leaves the form as it is, photos included, and says
    // when to send again.
    var refused = document.getElementById("submit-refused");
    form.addEventListener("submit", function (event) {
      if (!photos.checkValidity()) {
        event.preventDefault();
        photos.focus();
        return;
      }
      var button = document.getElementById("submit-report");
      var label = button.textContent;
      button.disabled = true;
      button.textContent = form.dataset.msgSending;
      if (!window.fetch || !window.FormData) return; // the ordinary form post
      event.preventDefault();
      refused.hidden = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json, text/html;q=0.9" },
      })
        .then(function (response) {
          if (response.status === 429 && /json/.test(response.headers.get("Content-Type") || "")) {
            return response.json().then(function (data) {
              refused.textContent = data.detail;
              refused.hidden = false;
              refused.focus();
              button.disabled = false;
              button.textContent = label;
            });
          }
          if (response.status >= 500) {
            refused.textContent = form.dataset.msgUnavailable;
            refused.hidden = false;
            refused.focus();
            button.disabled = false;
            button.textContent = label;
            return null;
          }
          if (response.redirected) {
            window.location.assign(response.url); // the confirmation
            return null;
          }
          // The form again, with what the server found wrong: show it as an ordinary post would.
          return response.text().then(function (html) {
            document.open();
            document.write(html);
            document.close();
          });
        })
        .catch(function () {
          form.submit(); // the connection failed: try the ordinary way
        });
    });

    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }

  // --- public map ------------------------------------------------------------------------------
  function publicMap(element) {
    var config = mapConfig();
    var note = document.getElementById("public-map-note");
    if (!window.L || !config) return;
    element.hidden = false;
    document.getElementById("public-map-legend").hidden = false;
    var map = baseMap(element, config);
    var text = element.dataset;

    function line(tag, content, className) {
      var node = document.createElement(tag);
      node.textContent = content;
      if (className) node.className = className;
      return node;
    }

    function popup(p) {
      var box = document.createElement("div");
      box.appendChild(line("strong", p.category));
      box.appendChild(line("p", p.tracking_code + " · " + p.status_label, "code"));
      box.appendChild(line("p", p.received + " · " + p.unit));
      if (p.address) box.appendChild(line("p", p.address));
      if (p.answer) box.appendChild(line("p", text.msgAnswer + ": " + p.answer));
      return box;
    }

    fetch(element.dataset.url, { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        var layer = L.featureGroup();
        data.features.forEach(function (feature) {
          var c = feature.geometry.coordinates;
          var open = feature.properties.open;
          L.circleMarker([c[1], c[0]], {
            radius: 8,
            weight: 2,
            color: "#ffffff",
            fillColor: open ? "#e07a00" : "#1e7a3c",
            fillOpacity: 0.9,
          })
            .bindPopup(popup(feature.properties))
            .addTo(layer);
        });
        layer.addTo(map);
        if (data.features.length) map.fitBounds(layer.getBounds(), { padding: [24, 24], maxZoom: 16 });
        if (data.truncated) note.textContent = text.msgTruncated;
      })
      .catch(function () {
        note.textContent = text.msgFailed;
      });
  }

  // --- confirmation: copy the code and the secret ---------------------------------------------
  function copyButtons() {
    if (!navigator.clipboard || !window.isSecureContext) return;
    document.querySelectorAll("button.copy").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var value = document.getElementById(button.dataset.copy).textContent.trim();
        navigator.clipboard.writeText(value).then(function () {
          button.textContent = button.dataset.done;
        });
      });
    });
  }

  var form = document.getElementById("report-form");
  if (form) reportForm(form);
  var publicElement = document.getElementById("public-map");
  if (publicElement) publicMap(publicElement);
  copyButtons();
})();
