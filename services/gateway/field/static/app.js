// Tepat field app (TKSK, PSM): my ground checks, the visit form, and a queue on the device so visits made without
// signal are sent, once each, when the network returns. The app is only a client: the API decides everything.
"use strict";
(function () {
  const TOKEN_KEY = "tepat.lapangan.token";
  const LANG_KEY = "tepat.lapangan.lang";
  const VERIFICATION = "/api/verification";
  const MAX_PHOTO_SIDE = 1280;
  const SYNC_EVERY_MS = 4000;
  const FIELD_ROLES = ["tksk", "psm", "pendamping_pkh"];
  const MAX_FAMILY_PAGES = 20;
  const state = {
    token: null,
    claims: null,
    checks: [],
    current: null,
    families: [],
    family: null,
    messages: {},
    lang: "id",
    syncing: false,
  };
  const $ = (id) => document.getElementById(id);

  // ---------- messages ----------

  async function loadMessages(lang) {
    const response = await fetch(`messages-${lang}.json`);
    state.messages = await response.json();
    state.lang = lang;
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll("[data-i18n]")) {
      const text = state.messages[el.dataset.i18n];
      if (text !== undefined) el.textContent = text;
    }
  }

  function t(key, vars) {
    let text = state.messages[key] !== undefined ? state.messages[key] : key;
    for (const [name, value] of Object.entries(vars || {})) text = text.replace(`{${name}}`, String(value));
    return text;
  }

  function formatDate(iso) {
    const locale = state.lang === "id" ? "id-ID" : "en-GB";
    return new Date(iso).toLocaleDateString(locale, { day: "numeric", month: "short", year: "numeric" });
  }

  // ---------- token ----------

  function readClaims(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part));
    } catch (e) {
      return null;
    }
  }

  function takeTokenFromUrl() {
    const params = new URLSearchParams(location.search);
    const token = params.get("token");
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token.trim());
      history.replaceState(null, "", location.pathname); // not in the address bar or the history
    }
  }

  function askForToken(message) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $("home").hidden = true;
    $("visit").hidden = true;
    $("signin").hidden = false;
    if (message) showAlert(message);
    document.body.dataset.state = "signin";
  }

  // ---------- network ----------

  function setNetwork(online) {
    $("net").textContent = online ? t("net.online") : t("net.offline");
    $("net").dataset.online = online ? "true" : "false";
  }

  async function api(method, path, options) {
    const headers = Object.assign({ Authorization: "Bearer " + state.token, Accept: "application/json" }, (options || {}).headers);
    const init = { method, headers };
    if (options && options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.json);
    } else if (options && options.form) {
      init.body = options.form;
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      setNetwork(false);
      throw Object.assign(new Error("offline"), { offline: true });
    }
    setNetwork(true);
    return response;
  }

  async function problemText(response) {
    try {
      const p = await response.json();
      return p.detail || p.title || String(response.status);
    } catch (e) {
      return String(response.status);
    }
  }

  function showAlert(text) {
    $("alert").textContent = text;
    $("alert").hidden = !text;
  }

  // ---------- my checks ----------

  async function fetchFamily(householdId) {
    if (!householdId) return null;
    const response = await api("GET", `/api/registry/families/${encodeURIComponent(householdId)}`);
    if (!response.ok) return null;
    const f = await response.json();
    const members = (f.members || []).filter((m) => m.active !== false);
    const head = members.find((m) => m.relationship === "kepala_keluarga") || members[0];
    return { address: `${f.address}, RT ${f.rt}/RW ${f.rw}`, head: head ? head.name : "", members: members.length };
  }

  async function loadChecks() {
    const subject = state.claims.sub;
    const query = `?assigned_to=${encodeURIComponent(subject)}&status=assigned&limit=200`;
    try {
      const response = await api("GET", `${VERIFICATION}/ground-checks${query}`);
      if (response.status === 401) return askForToken(t("signin.expired"));
      if (!response.ok) throw new Error(await problemText(response));
      const items = (await response.json()).items.sort((a, b) => a.due_at.localeCompare(b.due_at));
      for (const item of items) {
        try {
          item.family = await fetchFamily(item.household_id);
        } catch (e) {
          item.family = null;
        }
      }
      state.checks = items;
      await FieldStore.saveChecks(subject, items, new Date().toISOString());
      $("checks-source").textContent = t("checks.fresh");
      $("checks-source").dataset.source = "network";
    } catch (e) {
      if (!e.offline) showAlert(e.message);
      const saved = await FieldStore.loadChecks(subject);
      state.checks = saved ? saved.items : [];
      $("checks-source").textContent = saved ? t("checks.saved", { when: formatDate(saved.fetchedAt) }) : t("checks.none_saved");
      $("checks-source").dataset.source = "device";
    }
    await render();
  }

  async function render() {
    const queued = await FieldStore.all();
    const waiting = queued.filter((e) => e.status === "queued");
    const conflicts = queued.filter((e) => e.status === "conflict");
    const busy = new Set(queued.map((e) => e.checkId));
    $("queue-count").textContent = String(waiting.length);
    const list = $("checks");
    list.replaceChildren();
    if (!state.checks.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = t("checks.empty");
      list.append(li);
    }
    for (const check of state.checks) {
      const li = document.createElement("li");
      li.dataset.testid = `check-${check.id}`;
      li.dataset.checkId = String(check.id);
      const title = document.createElement("div");
      title.className = "title";
      title.textContent = `#${check.id} · ${t("reason_of_check." + check.reason.replace(/^flag_.*/, "flag"))}`;
      const meta = document.createElement("div");
      meta.className = "muted";
      const family = check.family ? `${check.family.head} · ${check.family.address} · ` : "";
      meta.textContent = `${family}${check.kelurahan_code} · ${t("checks.due")} ${formatDate(check.due_at)}`;
      li.append(title, meta);
      if (check.overdue) li.classList.add("overdue");
      if (busy.has(check.id)) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.dataset.testid = `queued-${check.id}`;
        badge.textContent = t("checks.queued");
        li.append(badge);
      } else {
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.testid = `open-${check.id}`;
        button.textContent = t("checks.visit");
        button.addEventListener("click", () => openVisit(check));
        li.append(button);
      }
      list.append(li);
    }
    const conflictList = $("conflicts");
    conflictList.replaceChildren();
    for (const entry of conflicts) {
      const li = document.createElement("li");
      if (entry.kind === "objection") {
        li.dataset.testid = `conflict-sanggah-${entry.body.household_id}`;
        li.textContent = t("queue.conflict_sanggah", { family: entry.label, reason: entry.problem });
      } else {
        li.dataset.testid = `conflict-${entry.checkId}`;
        li.textContent = t("queue.conflict", { id: entry.checkId, reason: entry.problem });
      }
      const dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "ghost";
      dismiss.textContent = t("queue.dismiss");
      dismiss.addEventListener("click", async () => {
        await FieldStore.remove(entry.id);
        await render();
      });
      li.append(" ", dismiss);
      conflictList.append(li);
    }
    document.body.dataset.state = "ready";
  }

  // ---------- sanggah (kelurahan operators) ----------

  async function loadFamilies() {
    const key = "families:" + state.claims.sub;
    try {
      const items = [];
      let cursor = null;
      for (let page = 0; page < MAX_FAMILY_PAGES; page++) {
        const query = `?kelurahan=${encodeURIComponent(state.claims.wilayah)}&limit=200` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : "");
        const response = await api("GET", `/api/registry/families${query}`);
        if (response.status === 401) return askForToken(t("signin.expired"));
        if (!response.ok) throw new Error(await problemText(response));
        const body = await response.json();
        for (const f of body.items) {
          if (f.data_status !== "inactive") {
            items.push({ id: f.id, address: `${f.address}, RT ${f.rt}/RW ${f.rw}`, kelurahan: f.kelurahan_code });
          }
        }
        cursor = body.next_cursor;
        if (!cursor) break;
      }
      state.families = items;
      await FieldStore.saveChecks(key, items, new Date().toISOString());
      $("families-source").textContent = t("sanggah.fresh", { n: items.length });
      $("families-source").dataset.source = "network";
    } catch (e) {
      if (!e.offline) showAlert(e.message);
      const saved = await FieldStore.loadChecks(key);
      state.families = saved ? saved.items : [];
      $("families-source").textContent = t("sanggah.device", { n: state.families.length });
      $("families-source").dataset.source = "device";
    }
    renderFamilies();
  }

  function renderFamilies() {
    const wanted = $("family-search").value.trim().toLowerCase();
    const list = $("families");
    list.replaceChildren();
    if (!wanted) return;
    for (const family of state.families.filter((f) => f.address.toLowerCase().includes(wanted)).slice(0, 20)) {
      const li = document.createElement("li");
      li.textContent = family.address;
      const choose = document.createElement("button");
      choose.type = "button";
      choose.dataset.testid = `choose-${family.id}`;
      choose.textContent = t("sanggah.choose");
      choose.addEventListener("click", () => {
        state.family = family;
        $("sanggah-family").textContent = family.address;
        list.replaceChildren();
      });
      li.append(choose);
      list.append(li);
    }
  }

  async function saveSanggah(event) {
    event.preventDefault();
    const form = $("sanggah-form");
    const data = new FormData(form);
    const fail = (key) => {
      $("sanggah-error").textContent = t(key);
      $("sanggah-error").hidden = false;
    };
    if (!state.family) return fail("error.family_needed");
    const lat = parseFloat(data.get("lat"));
    const lon = parseFloat(data.get("lon"));
    if (Number.isNaN(lat) || Number.isNaN(lon)) return fail("error.gps_needed");
    if (!form.elements.photo.files.length) return fail("error.photo_needed");
    const accuracy = parseFloat(data.get("accuracy_m"));
    await FieldStore.queue({
      id: crypto.randomUUID(),
      idempotencyKey: crypto.randomUUID(),
      kind: "objection",
      label: state.family.address,
      kelurahan: state.claims.wilayah,
      body: {
        household_id: state.family.id,
        objector_kelurahan_code: state.claims.wilayah,
        grounds: data.get("grounds"),
        gps: Object.assign({ lat, lon }, Number.isNaN(accuracy) ? {} : { accuracy_m: accuracy }),
      },
      photos: [await shrink(form.elements.photo.files[0])],
      refs: [],
      status: "queued",
      createdAt: new Date().toISOString(),
    });
    form.reset();
    state.family = null;
    $("sanggah-family").textContent = "—";
    $("sanggah-error").hidden = true;
    showAlert("");
    await render();
    sync();
  }

  // ---------- the visit ----------

  function openVisit(check) {
    state.current = check;
    $("visit-form").reset();
    $("form-error").hidden = true;
    $("visit-check").textContent = String(check.id);
    $("visit-family").textContent = check.family
      ? t("visit.family", { head: check.family.head, address: check.family.address, members: check.family.members })
      : t("visit.family_unknown");
    $("home").hidden = true;
    $("visit").hidden = false;
  }

  function closeVisit() {
    state.current = null;
    $("visit").hidden = true;
    $("home").hidden = false;
  }

  async function shrink(file) {
    // Smaller uploads on a weak signal; re-encoding also drops the camera's EXIF (the form records GPS itself).
    try {
      const bitmap = await createImageBitmap(file);
      const scale = Math.min(1, MAX_PHOTO_SIDE / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
      return blob || file;
    } catch (e) {
      return file;
    }
  }

  function formError(key) {
    $("form-error").textContent = t(key);
    $("form-error").hidden = false;
  }

  async function saveVisit(event) {
    event.preventDefault();
    const form = $("visit-form");
    const data = new FormData(form);
    const outcome = data.get("outcome");
    const reason = data.get("reason");
    if (outcome === "tidak_layak" && !reason) return formError("error.reason_needed");
    if (outcome === "layak" && reason) return formError("error.reason_only_tidak_layak");
    const lat = parseFloat(data.get("lat"));
    const lon = parseFloat(data.get("lon"));
    if (Number.isNaN(lat) || Number.isNaN(lon)) return formError("error.gps_needed");
    const files = form.elements.photo.files;
    if (!files.length) return formError("error.photo_needed");
    const photos = [];
    for (const file of files) photos.push(await shrink(file));
    const accuracy = parseFloat(data.get("accuracy_m"));
    const body = {
      visited_at: new Date().toISOString(),
      questionnaire: {
        house_ownership: data.get("house_ownership"),
        floor_area_m2: parseFloat(data.get("floor_area_m2")),
        floor_type: data.get("floor_type"),
        wall_type: data.get("wall_type"),
        roof_type: data.get("roof_type"),
        drinking_water: data.get("drinking_water"),
        sanitation: data.get("sanitation"),
        electricity_va: parseInt(data.get("electricity_va"), 10),
      },
      gps: Object.assign({ lat, lon }, Number.isNaN(accuracy) ? {} : { accuracy_m: accuracy }),
      outcome,
    };
    if (reason) body.reason = reason;
    // One idempotency key per visit, made now and kept with it: however often it is resent, it is one visit.
    await FieldStore.queue({
      id: crypto.randomUUID(),
      idempotencyKey: crypto.randomUUID(),
      checkId: state.current.id,
      kelurahan: state.current.kelurahan_code,
      body,
      photos,
      refs: [],
      status: "queued",
      createdAt: new Date().toISOString(),
    });
    closeVisit();
    await render();
    sync();
  }

  function takeGps() {
    if (!navigator.geolocation) return formError("error.gps_unavailable");
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        const form = $("visit-form");
        form.elements.lat.value = pos.coords.latitude.toFixed(6);
        form.elements.lon.value = pos.coords.longitude.toFixed(6);
        form.elements.accuracy_m.value = Math.round(pos.coords.accuracy);
      },
      () => formError("error.gps_unavailable"),
      { enableHighAccuracy: true, timeout: 20000 }
    );
  }

  // ---------- the queue ----------

  async function sendOne(entry) {
    // Photos first (content-addressed: sending one twice stores it once), remembered one by one.
    for (let i = entry.refs.length; i < entry.photos.length; i++) {
      const form = new FormData();
      form.append("file", entry.photos[i], `foto-${i + 1}.jpg`);
      form.append("purpose", entry.kind === "objection" ? "objection_photo" : "visit_photo");
      form.append("kelurahan_code", entry.kelurahan);
      const response = await api("POST", `${VERIFICATION}/evidence`, { form });
      if (!response.ok) return response;
      const stored = await response.json();
      entry.refs.push({ sha256: stored.sha256, media_type: stored.media_type });
      await FieldStore.update(entry);
    }
    const headers = { "Idempotency-Key": entry.idempotencyKey };
    if (entry.kind === "objection") {
      const objection = Object.assign({}, entry.body, { photo: entry.refs[0] });
      return api("POST", `${VERIFICATION}/objections`, { json: objection, headers });
    }
    const body = Object.assign({}, entry.body, { photos: entry.refs });
    return api("POST", `${VERIFICATION}/ground-checks/${entry.checkId}/visit`, {
      json: body,
      headers,
    });
  }

  async function sync() {
    if (state.syncing || !state.token) return;
    state.syncing = true;
    let sent = 0;
    try {
      for (const entry of await FieldStore.all()) {
        if (entry.status !== "queued") continue;
        let response;
        try {
          response = await sendOne(entry);
        } catch (e) {
          if (e.offline) break; // no network: everything stays queued
          throw e;
        }
        if (response.ok) {
          await FieldStore.remove(entry.id);
          sent += 1;
        } else if (response.status === 401) {
          askForToken(t("signin.expired"));
          break;
        } else if (response.status === 429 || response.status >= 500) {
          break; // the server is busy or down: try again later, in order
        } else {
          // Refused for a reason of its own (reassigned, closed, invalid): shown to the officer, never dropped.
          entry.status = "conflict";
          entry.problem = await problemText(response);
          entry.problemStatus = response.status;
          await FieldStore.update(entry);
        }
      }
    } finally {
      state.syncing = false;
    }
    if (sent && state.token && isFieldOfficer()) await loadChecks();
    else if (state.token) await render();
  }

  function isFieldOfficer() {
    return FIELD_ROLES.includes(state.claims.role);
  }

  // ---------- start ----------

  async function start() {
    await loadMessages(localStorage.getItem(LANG_KEY) || "id");
    setNetwork(navigator.onLine);
    $("lang").addEventListener("click", async () => {
      const next = state.lang === "id" ? "en" : "id";
      localStorage.setItem(LANG_KEY, next);
      await loadMessages(next);
      if (state.token) await render();
    });
    $("token-save").addEventListener("click", () => {
      sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
      location.reload();
    });
    $("visit-form").addEventListener("submit", saveVisit);
    $("back").addEventListener("click", closeVisit);
    $("gps").addEventListener("click", takeGps);
    $("sync").addEventListener("click", sync);
    window.addEventListener("online", sync);
    setInterval(sync, SYNC_EVERY_MS);
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker
        .register("sw.js", { scope: "./" })
        .then(() => navigator.serviceWorker.ready)
        .then(() => {
          document.body.dataset.sw = "ready";
        })
        .catch(() => {
          document.body.dataset.sw = "failed";
        });
    }
    takeTokenFromUrl();
    const token = sessionStorage.getItem(TOKEN_KEY);
    const claims = token ? readClaims(token) : null;
    if (!claims || !claims.sub) return askForToken();
    state.token = token;
    state.claims = claims;
    $("who").textContent = t("session.who", { sub: claims.sub, role: claims.role, wilayah: claims.wilayah });
    $("signin").hidden = true;
    $("home").hidden = false;
    if (isFieldOfficer()) {
      $("checks-part").hidden = false;
      await loadChecks();
    } else if (claims.role === "operator_kelurahan") {
      $("sanggah-part").hidden = false;
      $("family-search").addEventListener("input", renderFamilies);
      $("sanggah-form").addEventListener("submit", saveSanggah);
      await loadFamilies();
      await render();
    } else {
      showAlert(t("role.not_field"));
      await render();
    }
    sync();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
