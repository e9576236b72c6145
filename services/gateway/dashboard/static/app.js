// Tepat internal dashboard: reads the public aggregate APIs with the user's bearer token and draws them.
// Plain JavaScript, no build step, no third-party code. Every number carries a data-testid and its raw value
// in data-value, so the browser test can compare it with the API's own answer.
"use strict";

(function () {
  const TOKEN_KEY = "tepat.dashboard.token";
  const SVG_NS = "http://www.w3.org/2000/svg";

  const STATUSES = [
    { key: "active", label: "Active", color: "#2f855a" },
    { key: "needs_verification", label: "Needs verification", color: "#d69e2e" },
    { key: "inactive", label: "Inactive", color: "#a0aec0" },
  ];
  // Desil 1 (poorest) dark to 10 light; "none" for families not ranked yet.
  const DESIL_COLORS = [
    "#08306b", "#08519c", "#2171b5", "#4292c6", "#6baed6",
    "#9ecae1", "#b9d7ea", "#c6dbef", "#dbe9f6", "#eef5fb",
  ];
  const DESILS = DESIL_COLORS.map((color, i) => ({ key: String(i + 1), label: "Desil " + (i + 1), color }))
    .concat([{ key: "none", label: "No desil", color: "#e2e8f0" }]);
  const CHECK_STATES = [
    { key: "open", label: "Open", color: "#cbd5e0" },
    { key: "assigned", label: "Assigned", color: "#4299e1" },
    { key: "visited", label: "Visited", color: "#805ad5" },
    { key: "returned", label: "Returned", color: "#dd6b20" },
    { key: "approved", label: "Approved", color: "#38a169" },
    { key: "cancelled", label: "Cancelled", color: "#a0aec0" },
  ];
  const FLAG_LABELS = {
    invalid_nik: "Invalid NIK",
    sex_nik_mismatch: "Sex ≠ NIK",
    duplicate_nik: "Duplicate NIK",
    duplicate_kk: "Duplicate KK",
    nik_not_matched: "NIK not matched",
    deceased_dukcapil: "Deceased (Dukcapil)",
    excluded_occupation: "Excluded occupation",
    income_above_umr: "Income above UMR",
    electricity_non_subsidised: "Non-subsidised electricity",
    car_owner: "Car owner",
    business_owner: "Business owner",
  };
  const FAILURE_LABELS = {
    account_problem: "Account problem",
    not_found: "Not found",
    deceased_without_heir: "Deceased, no heir",
    not_collected: "Not collected",
    unspecified: "Unspecified",
  };

  const fmtInt = new Intl.NumberFormat("id-ID");
  const fmtPct = new Intl.NumberFormat("id-ID", { maximumFractionDigits: 1 });

  const state = {
    token: null,
    names: {}, // kecamatan code -> name
    aggregates: null,
    tahapList: [],
    tahapId: null,
    report: null,
  };

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

  // A number on the page: formatted text, raw value in data-value, a data-testid for the test.
  function num(value, testid, kind) {
    const v = Number(value || 0);
    let text = fmtInt.format(v);
    if (kind === "rp") text = "Rp " + fmtInt.format(v);
    if (kind === "pct") text = fmtPct.format(v) + " %";
    return el("span", { className: "num" + (v === 0 ? " zero" : ""), "data-testid": testid, "data-value": String(v), text });
  }

  function sum(obj) {
    return Object.values(obj || {}).reduce((a, b) => a + Number(b || 0), 0);
  }

  function kecLabel(code) {
    const name = state.names[code];
    return el("div", { className: "kec" }, [el("strong", { text: name || code }), name ? el("code", { text: code }) : null]);
  }

  // Charts are drawn at their container's pixel width, so their text keeps its CSS size.
  function widthOf(container) {
    return Math.max(360, Math.floor(container.clientWidth || 640));
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
      throw new ApiError(0, "The server cannot be reached (" + err.message + ").");
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      // RFC 9457 problem details: show the server's own explanation.
      const detail = (body && (body.detail || body.title)) || response.statusText || "Request failed";
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
    box.textContent = (err.status ? "Error " + err.status + ": " : "") + (err.detail || err.message);
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
      askForToken("That does not look like a Tepat token (no wilayah claim).");
      return;
    }
    $("token-panel").hidden = true;
    $("session").hidden = false;
    $("scope-code").textContent = claims.wilayah;
    $("scope-name").textContent = claims.wilayah;
    const expires = claims.exp ? new Date(claims.exp * 1000) : null;
    $("who").textContent =
      (claims.role || "?") + " · " + (claims.sub || "?") + (expires ? " · until " + expires.toLocaleString("id-ID") : "");
    await load(claims);
  }

  async function load(claims) {
    document.body.dataset.state = "loading";
    showAlert("");
    const [scope, kecamatan, aggregates, workload, overdue, tahap] = await Promise.allSettled([
      api("/api/registry/wilayah/" + encodeURIComponent(claims.wilayah)),
      api("/api/registry/wilayah/kecamatan"),
      api("/api/registry/aggregates/families?group_by=kecamatan"),
      api("/api/verification/ground-checks/workload"),
      api("/api/verification/ground-checks/overdue?limit=1"),
      api("/api/disbursement/tahap"),
    ]);
    const results = [scope, kecamatan, aggregates, workload, overdue, tahap];
    const refused = results.find((r) => r.status === "rejected" && r.reason.status === 401);
    if (refused) {
      sessionStorage.removeItem(TOKEN_KEY);
      askForToken("The token was refused: " + refused.reason.detail);
      return;
    }
    if (scope.status === "fulfilled") $("scope-name").textContent = scope.value.name;
    if (kecamatan.status === "fulfilled") {
      for (const k of kecamatan.value) state.names[k.code] = k.name;
    }
    state.aggregates = aggregates.status === "fulfilled" ? aggregates.value.groups : null;
    state.aggregatesError = aggregates.status === "rejected" ? aggregates.reason : null;
    state.workload = workload.status === "fulfilled" ? workload.value : null;
    state.workloadError = workload.status === "rejected" ? workload.reason : null;
    state.overdue = overdue.status === "fulfilled" ? overdue.value.total : null;
    state.tahapList = tahap.status === "fulfilled" ? tahap.value : [];
    state.tahapError = tahap.status === "rejected" ? tahap.reason : null;
    const usable = state.tahapList.filter((t) => t.status !== "cancelled");
    if (!state.tahapList.some((t) => t.id === state.tahapId)) {
      state.tahapId = (usable[0] || state.tahapList[0] || {}).id || null;
    }
    await loadReport();
    $("content").hidden = false;
    render();
    $("loaded-at").textContent = "Loaded " + new Date().toLocaleString("id-ID") + ".";
    document.body.dataset.state = "ready";
  }

  async function loadReport() {
    state.report = null;
    state.reportError = null;
    if (!state.tahapId) return;
    try {
      state.report = await api("/api/disbursement/reports/tahap/" + encodeURIComponent(state.tahapId) + "/kecamatan");
    } catch (err) {
      state.reportError = err;
    }
  }

  // ---------- rendering ----------

  function render() {
    showSectionError("overview", state.aggregatesError);
    showSectionError("workload", state.workloadError);
    showSectionError("money", state.tahapError || state.reportError);
    renderKpis();
    renderOverview();
    renderStatusChart();
    renderDesil();
    renderFlags();
    renderWorkload();
    renderMoney();
  }

  function reportRows() {
    return state.report ? state.report.kecamatan : [];
  }

  function kpi(label, value, testid, kind, note) {
    return el("div", { className: "kpi" }, [
      el("span", { className: "kpi-label", text: label }),
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
    const tahapTitle = state.report ? "Tahap " + state.report.programme_code + " " + state.report.label : "Tahap";
    replace($("kpis"), [
      el("div", { className: "kpi-group" }, [
        el("h3", { text: "Registry and verification" }),
        el("div", { className: "kpi-row" }, [
          kpi("Families", families, "kpi-families", "int", [num(members, "kpi-members"), " members"]),
          kpi("Need verification", needs, "kpi-needs-verification", "int"),
          kpi("Open flags", flagged, "kpi-open-flags", "int", "summed over kinds"),
          kpi("Checks in progress", openChecks, "kpi-checks-open", "int"),
          kpi("Checks overdue", state.overdue || 0, "kpi-checks-overdue", "int"),
        ]),
      ]),
      el("div", { className: "kpi-group" }, [
        el("h3", { text: tahapTitle }),
        el("div", { className: "kpi-row" }, [
          kpi("Listed", rows.reduce((a, r) => a + r.families_listed, 0), "kpi-listed", "int", "families"),
          kpi("Planned", planned, "kpi-planned", "rp"),
          kpi("Paid", paid, "kpi-paid", "rp", planned ? [num((100 * paid) / planned, "kpi-paid-pct", "pct"), " of planned"] : null),
          kpi("Breaks open", rows.reduce((a, r) => a + r.breaks_open, 0), "kpi-breaks", "int", "reconciliation"),
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

  function renderOverview() {
    const container = $("overview");
    if (!state.aggregates) return replace(container, null);
    const codes = kecamatanCodes();
    if (!codes.length) {
      return replace(container, empty("No families registered in your wilayah yet.", "empty-overview"));
    }
    const byCode = Object.fromEntries(state.aggregates.map((g) => [g.code, g]));
    const money = Object.fromEntries(reportRows().map((r) => [r.kecamatan_code, r]));
    const headers = [
      "Kecamatan",
      { label: "Families", num: true },
      { label: "Members", num: true },
    ].concat(STATUSES.map((s) => ({ label: s.label, num: true })), [
      { label: "Open flags", num: true },
      { label: "Listed", num: true },
      { label: "Planned", num: true },
      { label: "Paid", num: true },
      { label: "Paid %", num: true },
      { label: "Failed", num: true },
      { label: "Breaks", num: true },
    ]);
    const rows = codes.map((code) => {
      const g = byCode[code] || { families: 0, members: 0, by_data_status: {}, open_flags: {} };
      const m = money[code] || {};
      const cell = (node) => el("td", { className: "n" }, node);
      return el("tr", { "data-testid": "row-" + code }, [
        el("td", {}, kecLabel(code)),
        cell(num(g.families, "families-total-" + code)),
        cell(num(g.members, "members-total-" + code)),
      ].concat(
        STATUSES.map((s) => cell(num(g.by_data_status[s.key] || 0, "status-" + s.key + "-" + code))),
        [
          cell(num(sum(g.open_flags), "flags-total-" + code)),
          cell(num(m.families_listed || 0, "tahap-listed-" + code)),
          cell(num(m.amount_planned || 0, "amount-planned-" + code, "rp")),
          cell(num(m.amount_paid || 0, "amount-paid-" + code, "rp")),
          cell(num(m.paid_pct || 0, "paid-pct-" + code, "pct")),
          cell(num(sum(m.failures_by_reason), "failed-total-" + code)),
          cell(num(m.breaks_open || 0, "breaks-open-" + code)),
        ],
      ));
    });
    replace(container, table(headers, rows, "overview"));
  }

  // Horizontal stacked bars, one row per item; series in a fixed order with a legend.
  function stackedBars(items, series, options) {
    const opts = Object.assign({ labelWidth: 130, rowHeight: 30, width: 640, showTotal: true }, options || {});
    const max = Math.max(1, ...items.map((it) => series.reduce((a, s) => a + (it.values[s.key] || 0), 0)));
    const barWidth = opts.width - opts.labelWidth - 56;
    const height = items.length * opts.rowHeight + 4;
    const chart = svg("svg", {
      viewBox: "0 0 " + opts.width + " " + height,
      class: "chart",
      role: "img",
      "aria-label": opts.title || "chart",
    });
    items.forEach((it, i) => {
      const y = i * opts.rowHeight + 4;
      chart.appendChild(svg("text", { x: opts.labelWidth - 10, y: y + opts.rowHeight / 2 + 1, class: "axis", "text-anchor": "end", "dominant-baseline": "middle" }, it.label));
      chart.appendChild(svg("rect", { x: opts.labelWidth, y: y + 4, width: barWidth, height: opts.rowHeight - 10, rx: 3, class: "track" }));
      let x = opts.labelWidth;
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
    const legend = el("ul", { className: "legend" }, used.map((s) =>
      el("li", {}, [svg("svg", { width: 12, height: 12, viewBox: "0 0 12 12" }, svg("rect", { width: 12, height: 12, rx: 2, fill: s.color })), s.label]),
    ));
    return el("figure", { className: "figure" }, [chart, legend]);
  }

  function shortName(code) {
    return state.names[code] || code;
  }

  function renderStatusChart() {
    const groups = state.aggregates || [];
    if (!groups.length) return replace($("status-chart"), empty("No data yet.", "empty-status"));
    replace($("status-chart"), stackedBars(
      groups.map((g) => ({ label: shortName(g.code), values: g.by_data_status })),
      STATUSES,
      { title: "Families by data status per kecamatan", width: widthOf($("status-chart")) },
    ));
  }

  function renderDesil() {
    const groups = state.aggregates || [];
    if (!groups.length) {
      replace($("desil-chart"), empty("No data yet.", "empty-desil"));
      replace($("desil-table"), empty("No families registered in your wilayah yet.", "empty-desil-table"));
      return;
    }
    replace($("desil-chart"), stackedBars(
      groups.map((g) => ({ label: shortName(g.code), values: g.by_desil })),
      DESILS,
      { title: "Families by desil per kecamatan", width: widthOf($("desil-chart")) },
    ));
    const headers = ["Kecamatan"].concat(DESILS.map((d) => ({ label: d.key === "none" ? "None" : d.key, num: true })));
    const rows = groups.map((g) =>
      el("tr", {}, [el("td", {}, kecLabel(g.code))].concat(
        DESILS.map((d) => el("td", { className: "n" }, num(g.by_desil[d.key] || 0, "desil-" + d.key + "-" + g.code))),
      )),
    );
    replace($("desil-table"), table(headers, rows, "compact"));
  }

  function renderFlags() {
    const groups = state.aggregates || [];
    const kinds = Array.from(new Set(groups.flatMap((g) => Object.keys(g.open_flags)))).sort();
    if (!kinds.length) return replace($("flags"), empty("No open flags in your wilayah.", "empty-flags"));
    const headers = ["Kecamatan"].concat(kinds.map((k) => ({ label: FLAG_LABELS[k] || k, num: true })));
    const rows = groups.map((g) =>
      el("tr", {}, [el("td", {}, kecLabel(g.code))].concat(
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
      return replace($("workload"), empty("No ground checks in your wilayah yet.", "empty-workload"));
    }
    const known = CHECK_STATES.map((s) => s.key);
    const extra = Array.from(new Set(rows.flatMap((w) => Object.keys(w.counts)))).filter((k) => !known.includes(k));
    const states = CHECK_STATES.concat(extra.map((k) => ({ key: k, label: k, color: "#718096" })));
    replace($("workload-chart"), stackedBars(
      rows.map((w) => ({ label: w.officer || "(unassigned)", values: w.counts })),
      states,
      { title: "Ground checks per officer by state", labelWidth: 160, width: widthOf($("workload-chart")) },
    ));
    const headers = ["Officer", "Role"].concat(
      states.map((s) => ({ label: s.label, num: true })),
      [{ label: "Overdue", num: true }, { label: "Total", num: true }],
    );
    const body = rows.map((w) => {
      const key = officerKey(w);
      return el("tr", {}, [
        el("td", {}, el("code", { text: w.officer || "(unassigned)" })),
        el("td", { text: w.role || "—" }),
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

  function renderTahapPicker() {
    const select = $("tahap-select");
    select.replaceChildren();
    for (const t of state.tahapList) {
      const option = el("option", { value: t.id, text: t.programme_code + " · " + t.label + " (" + t.status + ")" });
      if (t.id === state.tahapId) option.selected = true;
      select.appendChild(option);
    }
    select.disabled = state.tahapList.length === 0;
  }

  function moneyBars(rows, width) {
    const labelWidth = 130;
    const rowHeight = 34;
    const barWidth = width - labelWidth - 70;
    const max = Math.max(1, ...rows.map((r) => r.amount_planned));
    const chart = svg("svg", { viewBox: "0 0 " + width + " " + (rows.length * rowHeight + 4), class: "chart", role: "img", "aria-label": "Paid against planned per kecamatan" });
    rows.forEach((r, i) => {
      const y = i * rowHeight + 4;
      const planned = (barWidth * r.amount_planned) / max;
      const paid = (barWidth * r.amount_paid) / max;
      chart.appendChild(svg("text", { x: labelWidth - 10, y: y + rowHeight / 2, class: "axis", "text-anchor": "end", "dominant-baseline": "middle" }, shortName(r.kecamatan_code)));
      chart.appendChild(svg("rect", { x: labelWidth, y: y + 5, width: Math.max(planned, 1), height: rowHeight - 12, rx: 3, fill: "#bee3f8" }, svg("title", {}, "Planned: Rp " + fmtInt.format(r.amount_planned))));
      if (paid > 0) {
        chart.appendChild(svg("rect", { x: labelWidth, y: y + 5, width: paid, height: rowHeight - 12, rx: 3, fill: "#2b6cb0" }, svg("title", {}, "Paid: Rp " + fmtInt.format(r.amount_paid))));
      }
      chart.appendChild(svg("text", { x: labelWidth + planned + 6, y: y + rowHeight / 2, class: "value", "dominant-baseline": "middle" }, fmtPct.format(r.paid_pct) + " %"));
    });
    const legend = el("ul", { className: "legend" }, [
      ["#bee3f8", "Planned"],
      ["#2b6cb0", "Paid"],
    ].map(([color, label]) => el("li", {}, [svg("svg", { width: 12, height: 12, viewBox: "0 0 12 12" }, svg("rect", { width: 12, height: 12, rx: 2, fill: color })), label])));
    return el("figure", { className: "figure" }, [chart, legend]);
  }

  function renderMoney() {
    renderTahapPicker();
    if (!state.tahapList.length) {
      replace($("tahap-meta"), null);
      replace($("money-chart"), null);
      return replace($("money"), state.tahapError ? null : empty("No tahap yet.", "empty-money"));
    }
    const t = state.tahapList.find((x) => x.id === state.tahapId);
    replace($("tahap-meta"), t ? el("dl", { className: "meta" }, [
      el("div", {}, [el("dt", { text: "Programme" }), el("dd", { text: t.programme_code })]),
      el("div", {}, [el("dt", { text: "Label" }), el("dd", { text: t.label })]),
      el("div", {}, [el("dt", { text: "Status" }), el("dd", {}, el("span", { className: "badge badge-" + t.status, "data-testid": "tahap-status", text: t.status }))]),
      el("div", {}, [el("dt", { text: "List size" }), el("dd", {}, num(t.listed_count, "tahap-list-size"))]),
      el("div", {}, [el("dt", { text: "As of" }), el("dd", { text: t.as_of })]),
    ]) : null);
    const rows = reportRows();
    if (!state.report) {
      replace($("money-chart"), null);
      return replace($("money"), null);
    }
    if (!rows.length) {
      replace($("money-chart"), null);
      return replace($("money"), empty("No payment lines in your wilayah for this tahap yet.", "empty-money"));
    }
    replace($("money-chart"), moneyBars(rows, widthOf($("money-chart"))));
    const headers = [
      "Kecamatan",
      { label: "Listed", num: true },
      { label: "Planned", num: true },
      { label: "Families paid", num: true },
      { label: "Paid", num: true },
      { label: "Paid %", num: true },
      { label: "On hold", num: true },
      "Failed by reason",
      { label: "Breaks open", num: true },
    ];
    const body = rows.map((r) => {
      const code = r.kecamatan_code;
      const reasons = Object.entries(r.failures_by_reason).sort();
      return el("tr", {}, [
        el("td", {}, kecLabel(code)),
        el("td", { className: "n" }, num(r.families_listed, "money-listed-" + code)),
        el("td", { className: "n" }, num(r.amount_planned, "money-planned-" + code, "rp")),
        el("td", { className: "n" }, num(r.families_paid, "families-paid-" + code)),
        el("td", { className: "n" }, num(r.amount_paid, "money-paid-" + code, "rp")),
        el("td", { className: "n" }, num(r.paid_pct, "money-paid-pct-" + code, "pct")),
        el("td", { className: "n" }, num(r.on_hold, "on-hold-" + code)),
        el("td", {}, reasons.length
          ? el("div", { className: "chips" }, reasons.map(([reason, n]) =>
            el("span", { className: "chip" }, [FAILURE_LABELS[reason] || reason, " ", num(n, "failures-" + reason + "-" + code)])))
          : el("span", { className: "muted", text: "none" })),
        el("td", { className: "n" }, num(r.breaks_open, "money-breaks-" + code)),
      ]);
    });
    replace($("money"), table(headers, body, "compact"));
  }

  // ---------- events ----------

  document.addEventListener("DOMContentLoaded", () => {
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
      askForToken("Signed out.");
    });
    $("refresh").addEventListener("click", () => start());
    $("tahap-select").addEventListener("change", async (event) => {
      state.tahapId = event.target.value;
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
    start();
  });
})();
