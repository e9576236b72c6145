// Tepat internal dashboard: reads the public aggregate APIs with the user's bearer token and draws them.
// Plain JavaScript, no build step, no third-party code. Every number carries a data-testid and its raw value
// in data-value, so the browser test can compare it with the API's own answer. Every word on the page comes from
// a message catalogue (messages-id.json, messages-en.json): Bahasa Indonesia by default, English as a switch.
"use strict";

(function () {
  const TOKEN_KEY = "tepat.dashboard.token";
  const SVG_NS = "http://www.w3.org/2000/svg";

  const LANG_KEY = "tepat.dashboard.lang";
  const LANGUAGES = ["id", "en"];

  const STATUSES = [
    { key: "active", color: "#2f855a" },
    { key: "needs_verification", color: "#d69e2e" },
    { key: "inactive", color: "#a0aec0" },
  ];
  // Desil 1 (poorest) dark to 10 light; "none" for families not ranked yet.
  const DESIL_COLORS = [
    "#08306b", "#08519c", "#2171b5", "#4292c6", "#6baed6",
    "#9ecae1", "#b9d7ea", "#c6dbef", "#dbe9f6", "#eef5fb",
  ];
  const DESILS = DESIL_COLORS.map((color, i) => ({ key: String(i + 1), color }))
    .concat([{ key: "none", color: "#e2e8f0" }]);
  const CHECK_STATES = [
    { key: "open", color: "#cbd5e0" },
    { key: "assigned", color: "#4299e1" },
    { key: "visited", color: "#805ad5" },
    { key: "returned", color: "#dd6b20" },
    { key: "approved", color: "#38a169" },
    { key: "cancelled", color: "#a0aec0" },
  ];
  // A field officer's queue: what still needs a visit or rework.
  const QUEUE_STATES = ["open", "assigned", "returned"];
  const FIELD_ROLES = ["tksk", "psm", "pendamping_pkh"];
  // Complaint categories and SLA states, in the order services/verification/complaints/rules.py gives them.
  const COMPLAINT_CATEGORIES = ["exclusion", "inclusion", "payment", "data_error", "officer_conduct", "other"];
  const SLA_STATES = ["overdue", "due_soon", "on_time", "closed"];
  // A tahap has payment lines from its approval on: the dashboard opens on the newest such tahap.
  const PAID_STATUSES = ["approved", "paying", "closed"];
  const TREND_TAHAP = 6;

  // Numbers, dates and money follow id-ID in both languages: the figures are Indonesian rupiah.
  const fmtInt = new Intl.NumberFormat("id-ID");
  const fmtPct = new Intl.NumberFormat("id-ID", { maximumFractionDigits: 1 });
  const fmtCompact = new Intl.NumberFormat("id-ID", { notation: "compact", maximumFractionDigits: 1 });

  const state = {
    token: null,
    claims: null,
    lang: "id",
    messages: {},
    names: {}, // wilayah code -> name (kecamatan, and the kelurahan of a kecamatan-scoped user)
    aggregates: null,
    kelurahan: null,
    queue: null,
    tahapList: [],
    tahapId: null,
    tahapNotice: null,
    report: null,
    trend: null,
  };

  // ---------- messages ----------

  // The message for a key, with {name} placeholders filled; an unknown key shows itself, so a gap is visible.
  function t(key, vars) {
    const text = Object.prototype.hasOwnProperty.call(state.messages, key) ? state.messages[key] : key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (vars && name in vars ? String(vars[name]) : "{" + name + "}"));
  }

  // A label for a code of the API (a flag kind, a state, a reason): the catalogue's word, else the code itself.
  function label(group, code) {
    const key = group + "." + code;
    return Object.prototype.hasOwnProperty.call(state.messages, key) ? state.messages[key] : code;
  }

  async function loadMessages(lang) {
    const response = await fetch("messages-" + lang + ".json", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("messages-" + lang + ".json: " + response.status);
    state.messages = await response.json();
    state.lang = lang;
    document.documentElement.lang = lang;
    applyStatic();
  }

  function chooseLanguage() {
    const params = new URLSearchParams(window.location.hash.slice(1));
    const asked = params.get("lang") || localStorage.getItem(LANG_KEY);
    return LANGUAGES.includes(asked) ? asked : "id";
  }

  // The words written in index.html: text, placeholders, titles and ARIA labels marked with data-i18n*.
  function applyStatic() {
    document.title = t("page.title");
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
    for (const node of document.querySelectorAll("[data-i18n-aria-label]")) {
      node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel));
    }
    $("token-input").placeholder = "eyJhbGciOiJSUzI1NiIs…";
  }

  // ---------- small DOM helpers ----------

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function svg(tag, attrs, children) {
    const node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function setAttrs(node, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "className") node.setAttribute("class", v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
  }

  function append(node, children) {
    for (const child of [].concat(children === undefined ? [] : children)) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
  }

  function replace(container, children) {
    container.replaceChildren();
    append(container, children);
  }

  // A number on the page: formatted text, raw value in data-value, a data-testid for the test. "rp-short" writes
  // a compact amount (Rp 1,8 jt) with the full one in the tooltip, for tables that must fit the screen.
  function num(value, testid, kind) {
    const v = Number(value || 0);
    let text = fmtInt.format(v);
    let title = null;
    if (kind === "rp") text = "Rp " + fmtInt.format(v);
    if (kind === "rp-short") {
      text = "Rp " + fmtCompact.format(v);
      title = "Rp " + fmtInt.format(v);
    }
    if (kind === "pct") text = fmtPct.format(v) + " %";
    return el("span", { className: "num" + (v === 0 ? " zero" : ""), "data-testid": testid, "data-value": String(v), title, text });
  }

  function sum(obj) {
    return Object.values(obj || {}).reduce((a, b) => a + Number(b || 0), 0);
  }

  function areaLabel(code) {
    const name = state.names[code];
    return el("div", { className: "kec" }, [el("strong", { text: name || code }), name ? el("code", { text: code }) : null]);
  }

  // Charts are drawn at their container's pixel width, so their text keeps its CSS size.
  function widthOf(container) {
    return Math.max(360, Math.floor(container.clientWidth || 640));
  }

  // Width of a chart label in the chart's own font, so long kecamatan names are never cut at the left edge.
  const measure = document.createElement("canvas").getContext("2d");
  function textWidth(text) {
    const font = getComputedStyle(document.body).fontFamily;
    measure.font = "12px " + font;
    return measure.measureText(text).width;
  }

  // Room for the longest label, at most 40 % of the chart; a label longer than that ends in "…" (full in a tooltip).
  function labelLayout(labels, width) {
    const widest = Math.max(40, ...labels.map(textWidth));
    const room = Math.min(widest + 16, Math.floor(width * 0.4));
    const fit = (text) => {
      if (textWidth(text) <= room - 16) return text;
      let cut = text;
      while (cut.length > 1 && textWidth(cut + "…") > room - 16) cut = cut.slice(0, -1);
      return cut + "…";
    };
    return { room, fit };
  }

  function axisLabel(text, fit, x, y) {
    return svg("text", { x, y, class: "axis", "text-anchor": "end", "dominant-baseline": "middle" }, [
      svg("title", {}, text),
      fit(text),
    ]);
  }

  function empty(message, testid) {
    return el("p", { className: "empty", "data-testid": testid, text: message });
  }

  // ---------- API ----------

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
      this.detail = detail;
    }
  }

  async function api(path) {
    let response;
    try {
      response = await fetch(path, { headers: { Authorization: "Bearer " + state.token, Accept: "application/json" } });
    } catch (err) {
      throw new ApiError(0, t("error.unreachable", { reason: err.message }));
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      // RFC 9457 problem details: show the server's own explanation.
      const detail = (body && (body.detail || body.title)) || response.statusText || t("error.failed");
      throw new ApiError(response.status, detail);
    }
    return body;
  }

  function showSectionError(name, err) {
    const box = document.querySelector('[data-testid="error-' + name + '"]');
    if (!box) return;
    if (!err) {
      box.hidden = true;
      box.textContent = "";
      return;
    }
    box.hidden = false;
    box.textContent = err.status ? t("error.status", { status: err.status, detail: err.detail }) : err.detail || err.message;
  }

  function showAlert(message) {
    const box = $("alert");
    box.hidden = !message;
    box.textContent = message || "";
  }

  // ---------- token ----------

  function readClaims(token) {
    // Display only: the server verifies the signature and enforces the scope on every call.
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const json = decodeURIComponent(
        atob(part + "===".slice((part.length + 3) % 4))
          .split("")
          .map((c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0"))
          .join(""),
      );
      return JSON.parse(json);
    } catch (_) {
      return null;
    }
  }

  function takeTokenFromUrl() {
    const params = new URLSearchParams(window.location.hash.slice(1));
    const token = params.get("token");
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token.trim());
      // Do not leave the token in the address bar or the history.
      history.replaceState(null, "", window.location.pathname + window.location.search);
    }
  }

  function askForToken(message) {
    state.token = null;
    $("session").hidden = true;
    $("content").hidden = true;
    $("token-panel").hidden = false;
    showAlert(message || "");
    document.body.dataset.state = "signed-out";
  }

  function scopeLevel(code) {
    return (code || "").split(".").length; // 2 kota, 3 kecamatan, 4 kelurahan
  }

  // ---------- loading ----------

  async function start() {
    takeTokenFromUrl();
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) {
      askForToken();
      return;
    }
    state.token = token;
    const claims = readClaims(token);
    if (!claims || !claims.wilayah) {
      sessionStorage.removeItem(TOKEN_KEY);
      askForToken(t("signin.not_a_token"));
      return;
    }
    state.claims = claims;
    $("token-panel").hidden = true;
    $("session").hidden = false;
    $("scope-code").textContent = claims.wilayah;
    $("scope-name").textContent = claims.wilayah;
    renderWho();
    await load(claims);
  }

  function renderWho() {
    const claims = state.claims;
    if (!claims) return;
    const expires = claims.exp ? new Date(claims.exp * 1000).toLocaleString("id-ID") : null;
    $("who").textContent = t(expires ? "session.who_until" : "session.who", {
      role: label("role", claims.role || "?"),
      subject: claims.sub || "?",
      until: expires,
    });
  }

  async function load(claims) {
    document.body.dataset.state = "loading";
    showAlert("");
    const kecamatanScope = scopeLevel(claims.wilayah) === 3;
    const fieldOfficer = FIELD_ROLES.includes(claims.role);
    const skip = Promise.resolve(null);
    const [scope, kecamatan, aggregates, workload, overdue, tahap, kelurahanNames, kelurahan, queue, complaints] =
      await Promise.allSettled([
        api("/api/registry/wilayah/" + encodeURIComponent(claims.wilayah)),
        api("/api/registry/wilayah/kecamatan"),
        api("/api/registry/aggregates/families?group_by=kecamatan"),
        api("/api/verification/ground-checks/workload"),
        api("/api/verification/ground-checks/overdue?limit=1"),
        api("/api/disbursement/tahap"),
        kecamatanScope ? api("/api/registry/wilayah/kecamatan/" + encodeURIComponent(claims.wilayah) + "/kelurahan") : skip,
        kecamatanScope ? api("/api/registry/aggregates/families?group_by=kelurahan") : skip,
        fieldOfficer
          ? api("/api/verification/ground-checks?limit=500&assigned_to=" + encodeURIComponent(claims.sub || ""))
          : skip,
        api("/api/verification/complaints/summary"),
      ]);
    const results = [scope, kecamatan, aggregates, workload, overdue, tahap, kelurahanNames, kelurahan, queue, complaints];
    const refused = results.find((r) => r.status === "rejected" && r.reason.status === 401);
    if (refused) {
      sessionStorage.removeItem(TOKEN_KEY);
      askForToken(t("signin.refused", { detail: refused.reason.detail }));
      return;
    }
    if (scope.status === "fulfilled") $("scope-name").textContent = scope.value.name;
    for (const names of [kecamatan, kelurahanNames]) {
      if (names.status === "fulfilled" && names.value) {
        for (const k of names.value) state.names[k.code] = k.name;
      }
    }
    state.aggregates = aggregates.status === "fulfilled" ? aggregates.value.groups : null;
    state.aggregatesError = aggregates.status === "rejected" ? aggregates.reason : null;
    state.kelurahan = kelurahan.status === "fulfilled" && kelurahan.value ? kelurahan.value.groups : null;
    state.kelurahanError = kelurahan.status === "rejected" ? kelurahan.reason : null;
    state.showKelurahan = kecamatanScope;
    state.queue = queue.status === "fulfilled" && queue.value ? queue.value.items : null;
    state.queueError = queue.status === "rejected" ? queue.reason : null;
    state.showQueue = fieldOfficer;
    state.workload = workload.status === "fulfilled" ? workload.value : null;
    state.workloadError = workload.status === "rejected" ? workload.reason : null;
    state.overdue = overdue.status === "fulfilled" ? overdue.value.total : null;
    state.complaints = complaints.status === "fulfilled" ? complaints.value.rows : null;
    state.complaintsError = complaints.status === "rejected" ? complaints.reason : null;
    state.tahapList = tahap.status === "fulfilled" ? tahap.value : [];
    state.tahapError = tahap.status === "rejected" ? tahap.reason : null;
    if (!state.tahapList.some((t) => t.id === state.tahapId)) chooseTahap();
    await loadReport();
    $("content").hidden = false;
    render();
    $("loaded-at").textContent = t("footer.loaded", { at: new Date().toLocaleString("id-ID") });
    document.body.dataset.state = "ready";
  }

  // Open on the newest tahap that has gone to the payers; say so when a newer one is not paid yet.
  function chooseTahap() {
    const usable = state.tahapList.filter((x) => x.status !== "cancelled");
    const newest = usable[0] || state.tahapList[0] || null;
    const paid = usable.find((x) => PAID_STATUSES.includes(x.status)) || null;
    state.tahapId = (paid || newest || {}).id || null;
    state.tahapNotice = null;
    if (newest && !paid) {
      state.tahapNotice = t("money.none_paid", { tahap: tahapName(newest), status: label("tahap_status", newest.status) });
    } else if (newest && paid && newest.id !== paid.id) {
      state.tahapNotice = t("money.newest_not_paid", {
        tahap: tahapName(newest),
        status: label("tahap_status", newest.status),
        shown: tahapName(paid),
      });
    }
  }

  function tahapName(x) {
    return x.programme_code + " " + x.label;
  }

  async function loadReport() {
    state.report = null;
    state.reportError = null;
    state.trend = null;
    state.trendError = null;
    if (!state.tahapId) return;
    const current = state.tahapList.find((x) => x.id === state.tahapId);
    // The trend: this programme's tahap up to the selected one, oldest first.
    const series = state.tahapList
      .filter((x) => x.programme_code === current.programme_code && x.status !== "cancelled")
      .filter((x) => x.created_at <= current.created_at || x.id === current.id)
      .slice(0, TREND_TAHAP)
      .reverse();
    const fetched = await Promise.allSettled(
      series.map((x) => api("/api/disbursement/reports/tahap/" + encodeURIComponent(x.id) + "/kecamatan")),
    );
    const failed = fetched.find((r) => r.status === "rejected");
    const index = series.findIndex((x) => x.id === current.id);
    if (fetched[index].status === "fulfilled") state.report = fetched[index].value;
    else state.reportError = fetched[index].reason;
    if (failed) state.trendError = failed.reason;
    else state.trend = series.map((x, i) => ({ tahap: x, report: fetched[i].value }));
  }

  // ---------- rendering ----------

  function render() {
    showSectionError("overview", state.aggregatesError);
    showSectionError("kelurahan", state.kelurahanError);
    showSectionError("queue", state.queueError);
    showSectionError("workload", state.workloadError);
    showSectionError("complaints", state.complaintsError);
    showSectionError("money", state.tahapError || state.reportError);
    showSectionError("trend", state.reportError ? null : state.trendError);
    renderKpis();
    renderOverview();
    renderKelurahan();
    renderQueue();
    renderStatusChart();
    renderDesil();
    renderFlags();
    renderWorkload();
    renderComplaints();
    renderMoney();
    renderTrend();
    renderDownloads();
  }

  function reportRows() {
    return state.report ? state.report.kecamatan : [];
  }

  function kpi(text, value, testid, kind, note) {
    return el("div", { className: "kpi" }, [
      el("span", { className: "kpi-label", text }),
      el("span", { className: "kpi-value" }, num(value, testid, kind)),
      note ? el("span", { className: "kpi-note" }, note) : null,
    ]);
  }

  function renderKpis() {
    const groups = state.aggregates || [];
    const families = groups.reduce((a, g) => a + g.families, 0);
    const members = groups.reduce((a, g) => a + g.members, 0);
    const needs = groups.reduce((a, g) => a + (g.by_data_status.needs_verification || 0), 0);
    const flagged = groups.reduce((a, g) => a + sum(g.open_flags), 0);
    const workload = state.workload || [];
    const openChecks = workload.reduce(
      (a, w) => a + ["open", "assigned", "visited", "returned"].reduce((b, s) => b + (w.counts[s] || 0), 0),
      0,
    );
    const rows = reportRows();
    const planned = rows.reduce((a, r) => a + r.amount_planned, 0);
    const paid = rows.reduce((a, r) => a + r.amount_paid, 0);
    const tahapTitle = state.report
      ? t("kpi.tahap_named", { programme: state.report.programme_code, label: state.report.label })
      : t("kpi.tahap");
    replace($("kpis"), [
      el("div", { className: "kpi-group" }, [
        el("h3", { text: t("kpi.registry_group") }),
        el("div", { className: "kpi-row" }, [
          kpi(t("kpi.families"), families, "kpi-families", "int", [num(members, "kpi-members"), " " + t("kpi.members_note")]),
          kpi(t("kpi.needs_verification"), needs, "kpi-needs-verification", "int"),
          kpi(t("kpi.open_flags"), flagged, "kpi-open-flags", "int", t("kpi.open_flags_note")),
          kpi(t("kpi.checks_open"), openChecks, "kpi-checks-open", "int"),
          kpi(t("kpi.checks_overdue"), state.overdue || 0, "kpi-checks-overdue", "int"),
        ]),
      ]),
      el("div", { className: "kpi-group" }, [
        el("h3", { text: tahapTitle }),
        el("div", { className: "kpi-row" }, [
          kpi(t("kpi.listed"), rows.reduce((a, r) => a + r.families_listed, 0), "kpi-listed", "int", t("kpi.listed_note")),
          kpi(t("kpi.planned"), planned, "kpi-planned", "rp"),
          kpi(t("kpi.paid"), paid, "kpi-paid", "rp", planned ? [num((100 * paid) / planned, "kpi-paid-pct", "pct"), " " + t("kpi.paid_note")] : null),
          kpi(t("kpi.breaks"), rows.reduce((a, r) => a + r.breaks_open, 0), "kpi-breaks", "int", t("kpi.breaks_note")),
        ]),
      ]),
    ]);
  }

  function kecamatanCodes() {
    const codes = new Set((state.aggregates || []).map((g) => g.code));
    for (const r of reportRows()) codes.add(r.kecamatan_code);
    return Array.from(codes).sort();
  }

  function table(headers, rows, className) {
    return el("div", { className: "table-wrap" }, el("table", { className: className || "" }, [
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { className: h.num ? "n" : "", text: h.label || h })))),
      el("tbody", {}, rows),
    ]));
  }

  const cell = (node) => el("td", { className: "n" }, node);

  // One row per area of the registry's aggregates: families, members, data status, open flags.
  function registryCells(g, code) {
    return [
      cell(num(g.families, "families-total-" + code)),
      cell(num(g.members, "members-total-" + code)),
    ].concat(
      STATUSES.map((s) => cell(num(g.by_data_status[s.key] || 0, "status-" + s.key + "-" + code))),
      [cell(num(sum(g.open_flags), "flags-total-" + code))],
    );
  }

  function registryHeaders(first) {
    return [first, { label: t("col.families"), num: true }, { label: t("col.members"), num: true }].concat(
      STATUSES.map((s) => ({ label: label("data_status", s.key), num: true })),
      [{ label: t("col.open_flags"), num: true }],
    );
  }

  function renderOverview() {
    const container = $("overview");
    if (!state.aggregates) return replace(container, null);
    const codes = kecamatanCodes();
    if (!codes.length) {
      return replace(container, empty(t("overview.empty"), "empty-overview"));
    }
    const byCode = Object.fromEntries(state.aggregates.map((g) => [g.code, g]));
    const money = Object.fromEntries(reportRows().map((r) => [r.kecamatan_code, r]));
    const headers = registryHeaders(t("col.kecamatan")).concat([
      { label: t("col.listed"), num: true },
      { label: t("col.planned"), num: true },
      { label: t("col.paid"), num: true },
      { label: t("col.paid_pct"), num: true },
      { label: t("col.failed"), num: true },
      { label: t("col.breaks"), num: true },
    ]);
    const rows = codes.map((code) => {
      const g = byCode[code] || { families: 0, members: 0, by_data_status: {}, open_flags: {} };
      const m = money[code] || {};
      return el("tr", { "data-testid": "row-" + code }, [el("td", {}, areaLabel(code))].concat(
        registryCells(g, code),
        [
          cell(num(m.families_listed || 0, "tahap-listed-" + code)),
          cell(num(m.amount_planned || 0, "amount-planned-" + code, "rp-short")),
          cell(num(m.amount_paid || 0, "amount-paid-" + code, "rp-short")),
          cell(num(m.paid_pct || 0, "paid-pct-" + code, "pct")),
          cell(num(sum(m.failures_by_reason), "failed-total-" + code)),
          cell(num(m.breaks_open || 0, "breaks-open-" + code)),
        ],
      ));
    });
    replace(container, table(headers, rows, "overview"));
  }

  // A kecamatan-scoped user (a TKSK): the same registry figures per kelurahan of the kecamatan.
  function renderKelurahan() {
    $("kelurahan-card").hidden = !state.showKelurahan;
    const container = $("kelurahan");
    if (!state.showKelurahan || !state.kelurahan) return replace(container, null);
    if (!state.kelurahan.length) return replace(container, empty(t("kelurahan.empty"), "empty-kelurahan"));
    const rows = state.kelurahan.map((g) =>
      el("tr", { "data-testid": "kel-row-" + g.code }, [el("td", {}, areaLabel(g.code))].concat(registryCells(g, g.code))),
    );
    replace(container, table(registryHeaders(t("col.kelurahan")), rows, "compact"));
  }

  // A field officer's own queue: checks assigned to them that still need a visit or rework, soonest due first.
  function renderQueue() {
    $("queue-card").hidden = !state.showQueue;
    const container = $("queue");
    if (!state.showQueue || !state.queue) return replace(container, null);
    const items = state.queue.filter((c) => QUEUE_STATES.includes(c.status)).sort((a, b) => (a.due_at < b.due_at ? -1 : 1));
    if (!items.length) return replace(container, empty(t("queue.empty"), "empty-queue"));
    const headers = [t("col.due"), t("col.kelurahan"), t("col.reason"), t("col.state"), { label: t("col.check"), num: true }];
    const rows = items.map((c) =>
      el("tr", { "data-testid": "queue-" + c.id, className: c.overdue ? "overdue" : "" }, [
        el("td", {}, [
          new Date(c.due_at).toLocaleDateString("id-ID"),
          c.overdue ? el("span", { className: "badge badge-cancelled", text: t("queue.overdue") }) : null,
        ]),
        el("td", {}, areaLabel(c.kelurahan_code)),
        el("td", { text: label("check_reason", c.reason) }),
        el("td", {}, el("span", { className: "badge", text: label("check_state", c.status) })),
        el("td", { className: "n" }, el("code", { text: "#" + c.id })),
      ]),
    );
    replace(container, [
      el("p", { className: "hint" }, [num(items.length, "queue-total"), " " + t("queue.count_note")]),
      table(headers, rows, "compact"),
    ]);
  }

  // Horizontal stacked bars, one row per item; series in a fixed order with a legend.
  function stackedBars(items, series, options) {
    const opts = Object.assign({ rowHeight: 30, width: 640, showTotal: true }, options || {});
    const layout = labelLayout(items.map((it) => it.label), opts.width);
    const max = Math.max(1, ...items.map((it) => series.reduce((a, s) => a + (it.values[s.key] || 0), 0)));
    const barWidth = opts.width - layout.room - 56;
    const height = items.length * opts.rowHeight + 4;
    const chart = svg("svg", {
      viewBox: "0 0 " + opts.width + " " + height,
      class: "chart",
      role: "img",
      "aria-label": opts.title || "chart",
    });
    items.forEach((it, i) => {
      const y = i * opts.rowHeight + 4;
      chart.appendChild(axisLabel(it.label, layout.fit, layout.room - 10, y + opts.rowHeight / 2 + 1));
      chart.appendChild(svg("rect", { x: layout.room, y: y + 4, width: barWidth, height: opts.rowHeight - 10, rx: 3, class: "track" }));
      let x = layout.room;
      let total = 0;
      for (const s of series) {
        const v = it.values[s.key] || 0;
        if (!v) continue;
        total += v;
        const w = (barWidth * v) / max;
        chart.appendChild(
          svg("rect", { x: x, y: y + 4, width: Math.max(w, 1), height: opts.rowHeight - 10, fill: s.color }, [
            svg("title", {}, s.label + ": " + fmtInt.format(v)),
          ]),
        );
        x += w;
      }
      if (opts.showTotal) {
        chart.appendChild(svg("text", { x: x + 6, y: y + opts.rowHeight / 2 + 1, class: "value", "dominant-baseline": "middle" }, fmtInt.format(total)));
      }
    });
    const used = series.filter((s) => items.some((it) => it.values[s.key]));
    return el("figure", { className: "figure" }, [chart, legend(used.map((s) => [s.color, s.label]))]);
  }

  function legend(entries) {
    return el("ul", { className: "legend" }, entries.map(([color, text]) =>
      el("li", {}, [svg("svg", { width: 12, height: 12, viewBox: "0 0 12 12" }, svg("rect", { width: 12, height: 12, rx: 2, fill: color })), text]),
    ));
  }

  function shortName(code) {
    return state.names[code] || code;
  }

  function withLabels(series, group) {
    return series.map((s) => Object.assign({ label: label(group, s.key) }, s));
  }

  function renderStatusChart() {
    const groups = state.aggregates || [];
    if (!groups.length) return replace($("status-chart"), empty(t("chart.no_data"), "empty-status"));
    replace($("status-chart"), stackedBars(
      groups.map((g) => ({ label: shortName(g.code), values: g.by_data_status })),
      withLabels(STATUSES, "data_status"),
      { title: t("status.title"), width: widthOf($("status-chart")) },
    ));
  }

  function renderDesil() {
    const groups = state.aggregates || [];
    if (!groups.length) {
      replace($("desil-chart"), empty(t("chart.no_data"), "empty-desil"));
      replace($("desil-table"), empty(t("overview.empty"), "empty-desil-table"));
      return;
    }
    const desils = DESILS.map((d) => Object.assign({ label: d.key === "none" ? t("desil.none") : t("desil.n", { n: d.key }) }, d));
    replace($("desil-chart"), stackedBars(
      groups.map((g) => ({ label: shortName(g.code), values: g.by_desil })),
      desils,
      { title: t("desil.title"), width: widthOf($("desil-chart")) },
    ));
    const headers = [t("col.kecamatan")].concat(DESILS.map((d) => ({ label: d.key === "none" ? t("desil.none_short") : d.key, num: true })));
    const rows = groups.map((g) =>
      el("tr", {}, [el("td", {}, areaLabel(g.code))].concat(
        DESILS.map((d) => el("td", { className: "n" }, num(g.by_desil[d.key] || 0, "desil-" + d.key + "-" + g.code))),
      )),
    );
    replace($("desil-table"), table(headers, rows, "compact"));
  }

  function renderFlags() {
    const groups = state.aggregates || [];
    const kinds = Array.from(new Set(groups.flatMap((g) => Object.keys(g.open_flags)))).sort();
    if (!kinds.length) return replace($("flags"), empty(t("flags.empty"), "empty-flags"));
    const headers = [t("col.kecamatan")].concat(kinds.map((k) => ({ label: label("flag", k), num: true })));
    const rows = groups.map((g) =>
      el("tr", {}, [el("td", {}, areaLabel(g.code))].concat(
        kinds.map((k) => el("td", { className: "n" }, num(g.open_flags[k] || 0, "flags-" + k + "-" + g.code))),
      )),
    );
    replace($("flags"), table(headers, rows, "compact"));
  }

  function officerKey(w) {
    return w.officer || "unassigned";
  }

  function renderWorkload() {
    const rows = state.workload;
    if (!rows) {
      replace($("workload-chart"), null);
      return replace($("workload"), null);
    }
    if (!rows.length) {
      replace($("workload-chart"), null);
      return replace($("workload"), empty(t("workload.empty"), "empty-workload"));
    }
    const known = CHECK_STATES.map((s) => s.key);
    const extra = Array.from(new Set(rows.flatMap((w) => Object.keys(w.counts)))).filter((k) => !known.includes(k));
    const states = withLabels(CHECK_STATES.concat(extra.map((k) => ({ key: k, color: "#718096" }))), "check_state");
    replace($("workload-chart"), stackedBars(
      rows.map((w) => ({ label: w.officer || t("workload.unassigned"), values: w.counts })),
      states,
      { title: t("workload.title"), width: widthOf($("workload-chart")) },
    ));
    const headers = [t("col.officer"), t("col.role")].concat(
      states.map((s) => ({ label: s.label, num: true })),
      [{ label: t("col.overdue"), num: true }, { label: t("col.total"), num: true }],
    );
    const body = rows.map((w) => {
      const key = officerKey(w);
      return el("tr", {}, [
        el("td", {}, el("code", { text: w.officer || t("workload.unassigned") })),
        el("td", { text: w.role ? label("role", w.role) : "—" }),
      ].concat(
        states.map((s) => el("td", { className: "n" }, num(w.counts[s.key] || 0, "workload-" + s.key + "-" + key))),
        [
          el("td", { className: "n" }, num(w.overdue, "workload-overdue-" + key)),
          el("td", { className: "n" }, num(sum(w.counts), "workload-total-" + key)),
        ],
      ));
    });
    replace($("workload"), table(headers, body, "compact"));
  }

  // Complaints (pengaduan) per kecamatan: the open ones by category, then every one by its SLA status.
  function renderComplaints() {
    const rows = state.complaints;
    if (!rows) return replace($("complaints"), null);
    if (!rows.length) return replace($("complaints"), empty(t("complaints.empty"), "empty-complaints"));
    const byKecamatan = {};
    for (const r of rows) {
      const k = (byKecamatan[r.kecamatan_code] = byKecamatan[r.kecamatan_code] || { open: {}, sla: {} });
      if (r.sla_status !== "closed") k.open[r.category] = (k.open[r.category] || 0) + r.count;
      k.sla[r.sla_status] = (k.sla[r.sla_status] || 0) + r.count;
    }
    const headers = [t("col.kecamatan")].concat(
      COMPLAINT_CATEGORIES.map((c) => ({ label: label("complaint_category", c), num: true })),
      SLA_STATES.map((s) => ({ label: label("sla", s), num: true })),
    );
    const body = Object.keys(byKecamatan).sort().map((code) => {
      const k = byKecamatan[code];
      return el("tr", {}, [el("td", {}, areaLabel(code))].concat(
        COMPLAINT_CATEGORIES.map((c) => cell(num(k.open[c] || 0, "complaints-" + c + "-" + code))),
        SLA_STATES.map((s) => cell(num(k.sla[s] || 0, "complaints-sla-" + s + "-" + code))),
      ));
    });
    replace($("complaints"), table(headers, body, "compact"));
  }

  function renderTahapPicker() {
    const select = $("tahap-select");
    select.replaceChildren();
    for (const x of state.tahapList) {
      const option = el("option", { value: x.id, text: tahapName(x) + " (" + label("tahap_status", x.status) + ")" });
      if (x.id === state.tahapId) option.selected = true;
      select.appendChild(option);
    }
    select.disabled = state.tahapList.length === 0;
  }

  function moneyBars(rows, width) {
    const rowHeight = 34;
    const layout = labelLayout(rows.map((r) => shortName(r.kecamatan_code)), width);
    const barWidth = width - layout.room - 70;
    const max = Math.max(1, ...rows.map((r) => r.amount_planned));
    const chart = svg("svg", { viewBox: "0 0 " + width + " " + (rows.length * rowHeight + 4), class: "chart", role: "img", "aria-label": t("money.chart_aria") });
    rows.forEach((r, i) => {
      const y = i * rowHeight + 4;
      const planned = (barWidth * r.amount_planned) / max;
      const paid = (barWidth * r.amount_paid) / max;
      chart.appendChild(axisLabel(shortName(r.kecamatan_code), layout.fit, layout.room - 10, y + rowHeight / 2));
      chart.appendChild(svg("rect", { x: layout.room, y: y + 5, width: Math.max(planned, 1), height: rowHeight - 12, rx: 3, fill: "#bee3f8" }, svg("title", {}, t("col.planned") + ": Rp " + fmtInt.format(r.amount_planned))));
      if (paid > 0) {
        chart.appendChild(svg("rect", { x: layout.room, y: y + 5, width: paid, height: rowHeight - 12, rx: 3, fill: "#2b6cb0" }, svg("title", {}, t("col.paid") + ": Rp " + fmtInt.format(r.amount_paid))));
      }
      chart.appendChild(svg("text", { x: layout.room + planned + 6, y: y + rowHeight / 2, class: "value", "dominant-baseline": "middle" }, fmtPct.format(r.paid_pct) + " %"));
    });
    return el("figure", { className: "figure" }, [chart, legend([["#bee3f8", t("col.planned")], ["#2b6cb0", t("col.paid")]])]);
  }

  function renderMoney() {
    renderTahapPicker();
    const notice = $("tahap-notice");
    notice.hidden = !state.tahapNotice;
    notice.textContent = state.tahapNotice || "";
    if (!state.tahapList.length) {
      replace($("tahap-meta"), null);
      replace($("money-chart"), null);
      return replace($("money"), state.tahapError ? null : empty(t("money.no_tahap"), "empty-money"));
    }
    const x = state.tahapList.find((item) => item.id === state.tahapId);
    replace($("tahap-meta"), x ? el("dl", { className: "meta" }, [
      el("div", {}, [el("dt", { text: t("money.programme") }), el("dd", { text: x.programme_code })]),
      el("div", {}, [el("dt", { text: t("money.label") }), el("dd", { text: x.label })]),
      el("div", {}, [el("dt", { text: t("money.status") }), el("dd", {}, el("span", { className: "badge badge-" + x.status, "data-testid": "tahap-status", "data-status": x.status, text: label("tahap_status", x.status) }))]),
      el("div", {}, [el("dt", { text: t("money.list_size") }), el("dd", {}, num(x.listed_count, "tahap-list-size"))]),
      el("div", {}, [el("dt", { text: t("money.as_of") }), el("dd", { text: new Date(x.as_of).toLocaleDateString("id-ID") })]),
    ]) : null);
    const rows = reportRows();
    if (!state.report) {
      replace($("money-chart"), null);
      return replace($("money"), null);
    }
    if (!rows.length) {
      replace($("money-chart"), null);
      return replace($("money"), empty(t("money.no_lines"), "empty-money"));
    }
    replace($("money-chart"), moneyBars(rows, widthOf($("money-chart"))));
    const headers = [
      t("col.kecamatan"),
      { label: t("col.listed"), num: true },
      { label: t("col.planned"), num: true },
      { label: t("col.families_paid"), num: true },
      { label: t("col.paid"), num: true },
      { label: t("col.paid_pct"), num: true },
      { label: t("col.on_hold"), num: true },
      t("col.failed_by_reason"),
      { label: t("col.breaks_open"), num: true },
    ];
    const body = rows.map((r) => {
      const code = r.kecamatan_code;
      const reasons = Object.entries(r.failures_by_reason).sort();
      return el("tr", {}, [
        el("td", {}, areaLabel(code)),
        cell(num(r.families_listed, "money-listed-" + code)),
        cell(num(r.amount_planned, "money-planned-" + code, "rp")),
        cell(num(r.families_paid, "families-paid-" + code)),
        cell(num(r.amount_paid, "money-paid-" + code, "rp")),
        cell(num(r.paid_pct, "money-paid-pct-" + code, "pct")),
        cell(num(r.on_hold, "on-hold-" + code)),
        el("td", {}, reasons.length
          ? el("div", { className: "chips" }, reasons.map(([reason, n]) =>
            el("span", { className: "chip" }, [label("failure", reason), " ", num(n, "failures-" + reason + "-" + code)])))
          : el("span", { className: "muted", text: t("money.no_failures") })),
        cell(num(r.breaks_open, "money-breaks-" + code)),
      ]);
    });
    replace($("money"), table(headers, body, "compact"));
  }

  // Tahap over tahap for the selected programme: listed and paid families per tahap (chart), and per kecamatan
  // listed / paid / failed by reason (table), oldest tahap first.
  function renderTrend() {
    const chartBox = $("trend-chart");
    const box = $("trend");
    if (!state.trend || !state.trend.length) {
      replace(chartBox, null);
      return replace(box, state.trendError || state.tahapError ? null : empty(t("trend.empty"), "empty-trend"));
    }
    const totals = state.trend.map(({ tahap, report }) => ({
      tahap,
      listed: report.kecamatan.reduce((a, r) => a + r.families_listed, 0),
      paid: report.kecamatan.reduce((a, r) => a + r.families_paid, 0),
      failed: report.kecamatan.reduce((a, r) => a + sum(r.failures_by_reason), 0),
    }));
    replace(chartBox, trendBars(totals, widthOf(chartBox)));
    const codes = Array.from(new Set(state.trend.flatMap(({ report }) => report.kecamatan.map((r) => r.kecamatan_code)))).sort();
    const headers = [t("col.kecamatan")].concat(
      state.trend.map(({ tahap }) => ({ label: tahap.label + " · " + t("trend.cell_legend"), num: true })),
    );
    const rows = codes.map((code) =>
      el("tr", {}, [el("td", {}, areaLabel(code))].concat(state.trend.map(({ tahap, report }) => {
        const r = report.kecamatan.find((k) => k.kecamatan_code === code);
        if (!r) return el("td", { className: "n muted", text: "—" });
        const reasons = Object.entries(r.failures_by_reason).sort();
        return el("td", { className: "n" }, [
          num(r.families_listed, "trend-listed-" + tahap.id + "-" + code), " · ",
          num(r.families_paid, "trend-paid-" + tahap.id + "-" + code), " · ",
          num(sum(r.failures_by_reason), "trend-failed-" + tahap.id + "-" + code),
          reasons.length ? el("div", { className: "chips trend-reasons" }, reasons.map(([reason, n]) =>
            el("span", { className: "chip" }, [label("failure", reason), " ", num(n, "trend-failures-" + reason + "-" + tahap.id + "-" + code)]))) : null,
        ]);
      }))),
    );
    const footer = el("tr", { className: "total" }, [el("td", {}, el("strong", { text: t("col.total") }))].concat(totals.map((x) =>
      el("td", { className: "n" }, [
        num(x.listed, "trend-listed-" + x.tahap.id), " · ", num(x.paid, "trend-paid-" + x.tahap.id), " · ",
        num(x.failed, "trend-failed-" + x.tahap.id),
      ]))));
    replace(box, table(headers, rows.concat([footer]), "compact"));
  }

  function trendBars(totals, width) {
    const height = 160;
    const base = height - 24;
    const max = Math.max(1, ...totals.map((x) => x.listed));
    const slot = (width - 20) / Math.max(totals.length, 1);
    const bar = Math.min(28, slot / 3);
    const chart = svg("svg", { viewBox: "0 0 " + width + " " + height, class: "chart", role: "img", "aria-label": t("trend.title") });
    totals.forEach((x, i) => {
      const left = 10 + i * slot + slot / 2 - bar - 2;
      const listedH = ((base - 16) * x.listed) / max;
      const paidH = ((base - 16) * x.paid) / max;
      chart.appendChild(svg("rect", { x: left, y: base - listedH, width: bar, height: Math.max(listedH, 1), rx: 2, fill: "#90cdf4" }, svg("title", {}, t("col.listed") + ": " + fmtInt.format(x.listed))));
      chart.appendChild(svg("rect", { x: left + bar + 4, y: base - paidH, width: bar, height: Math.max(paidH, 1), rx: 2, fill: "#2b6cb0" }, svg("title", {}, t("col.families_paid") + ": " + fmtInt.format(x.paid))));
      chart.appendChild(svg("text", { x: left + bar + 2, y: height - 8, class: "axis", "text-anchor": "middle" }, x.tahap.programme_code + " " + x.tahap.label));
    });
    return el("figure", { className: "figure" }, [chart, legend([["#90cdf4", t("col.listed")], ["#2b6cb0", t("col.families_paid")]])]);
  }

  // ---------- downloads ----------

  // The lists with an export: the service's prefix (where its export jobs live) and the export route.
  function downloadLists() {
    const lists = [
      { key: "families", name: t("downloads.families"), service: "/api/registry", path: "/families/export" },
      { key: "corrections", name: t("downloads.corrections"), service: "/api/registry", path: "/corrections/export" },
      { key: "flags", name: t("downloads.flags"), service: "/api/registry", path: "/flags/export" },
      { key: "checks", name: t("downloads.checks"), service: "/api/verification", path: "/ground-checks/export" },
    ];
    const tahap = state.tahapList.find((x) => x.id === state.tahapId);
    if (tahap) {
      const id = encodeURIComponent(tahap.id);
      const vars = { tahap: tahapName(tahap) };
      lists.push(
        { key: "tahap-list", name: t("downloads.tahap_list", vars), service: "/api/disbursement", path: "/tahap/" + id + "/list" },
        { key: "payment-lines", name: t("downloads.payment_lines", vars), service: "/api/disbursement", path: "/tahap/" + id + "/payment-lines" },
      );
    }
    return lists;
  }

  function renderDownloads() {
    const rows = downloadLists().map((list) => {
      const name = list.name;
      const buttons = ["csv", "xlsx"].map((fmt) => {
        const button = el("button", { type: "button", className: "ghost", "data-testid": "download-" + list.key + "-" + fmt, text: fmt.toUpperCase() });
        button.addEventListener("click", () => download(list, name, fmt, button));
        return button;
      });
      return el("tr", {}, [el("td", { text: name }), el("td", { className: "n" }, buttons)]);
    });
    replace($("downloads"), table([t("downloads.title"), ""], rows, "compact"));
  }

  function downloadStatus(text, file, bytes) {
    const box = $("download-status");
    box.textContent = text;
    box.dataset.file = file || "";
    box.dataset.bytes = bytes === undefined ? "" : String(bytes);
  }

  async function authorised(path) {
    try {
      return await fetch(path, { headers: { Authorization: "Bearer " + state.token } });
    } catch (err) {
      throw new ApiError(0, t("error.unreachable", { reason: err.message }));
    }
  }

  async function failure(response) {
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    return new ApiError(response.status, (body && (body.detail || body.title)) || response.statusText || t("error.failed"));
  }

  // A large list answers 202 with a job: wait for it (showing rows written of the total), then fetch its file.
  async function waitForExport(list, name, job) {
    for (;;) {
      if (job.status === "succeeded") return authorised(list.service + job.download);
      if (job.status === "failed") throw new ApiError(0, t("downloads.job_failed", { error: job.error || "" }));
      downloadStatus(t("downloads.progress", { name, written: fmtInt.format(job.rows_written), total: fmtInt.format(job.rows_total) }));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      job = await api(list.service + "/exports/" + encodeURIComponent(job.id));
    }
  }

  // Fetched with the bearer token (a plain link would go without it), handed to the browser as a file.
  async function download(list, name, fmt, button) {
    button.disabled = true;
    showSectionError("downloads", null);
    downloadStatus(t("downloads.preparing", { name }));
    try {
      let response = await authorised(list.service + list.path + "?format=" + fmt);
      if (response.status === 202) response = await waitForExport(list, name, await response.json());
      if (!response.ok) throw await failure(response);
      const blob = await response.blob();
      const disposition = response.headers.get("Content-Disposition") || "";
      const match = /filename="?([^";]+)"?/.exec(disposition);
      const file = match ? match[1] : list.key + "." + fmt;
      const href = URL.createObjectURL(blob);
      const link = el("a", { href, download: file, hidden: true });
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(href), 60000);
      downloadStatus(t("downloads.done", { name: file, size: fmtInt.format(blob.size) }), file, blob.size);
    } catch (err) {
      downloadStatus("");
      showSectionError("downloads", err);
    } finally {
      button.disabled = false;
    }
  }

  // ---------- events ----------

  async function switchLanguage() {
    const next = state.lang === "id" ? "en" : "id";
    localStorage.setItem(LANG_KEY, next);
    await loadMessages(next);
    if (document.body.dataset.state === "ready") {
      if (state.tahapList.length) {
        const keep = state.tahapId;
        chooseTahap();
        state.tahapId = keep;
      }
      renderWho();
      render();
    }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token-input").value.trim().replace(/^Bearer\s+/i, "");
      if (!value) return;
      sessionStorage.setItem(TOKEN_KEY, value);
      $("token-input").value = "";
      start();
    });
    $("forget").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      askForToken(t("signin.signed_out"));
    });
    $("refresh").addEventListener("click", () => start());
    $("lang").addEventListener("click", () => switchLanguage());
    $("tahap-select").addEventListener("change", async (event) => {
      state.tahapId = event.target.value;
      state.tahapNotice = null;
      document.body.dataset.state = "loading";
      await loadReport();
      render();
      document.body.dataset.state = "ready";
    });
    window.addEventListener("hashchange", () => start());
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => {
        if (document.body.dataset.state === "ready") render();
      }, 150);
    });
    try {
      await loadMessages(chooseLanguage());
    } catch (err) {
      showAlert(String(err.message || err));
    }
    start();
  });
})();
