// The sandbox console: polls the /sandbox/ JSON control endpoints and renders them.
// Plain DOM, no build step; every value is set with textContent (never parsed as HTML).
"use strict";

(function () {
  const POLL_MS = 2000;
  const BUSY_POLL_MS = 500;
  const RECENT_DELIVERIES = 50;
  // Fault switches: what each one sets when turned on; off puts the fields back to no fault.
  const FAULTS = [
    { label: "Latency +300 ms", on: { latency_ms: 300 }, off: { latency_ms: 0 } },
    { label: "429 rate limited (25%)", on: { error_429_share: 0.25 }, off: { error_429_share: 0 } },
    { label: "503 unavailable (25%)", on: { error_503_share: 0.25 }, off: { error_503_share: 0 } },
    { label: "Internal error 36009003 (25%)", on: { internal_error_share: 0.25 }, off: { internal_error_share: 0 } },
    { label: "Dropped connections (10%)", on: { drop_share: 0.1 }, off: { drop_share: 0 } },
    { label: "QPS limit 5/s", on: { rate_limit_qps: 5 }, off: { rate_limit_qps: null } },
  ];
  const FAULT_DEFAULTS = {
    latency_ms: 0, jitter_ms: 0, rate_limit_qps: null, retry_after: null,
    error_429_share: 0, error_503_share: 0, internal_error_share: 0,
    slow_share: 0, drop_share: 0, limit: null,
  };

  let faults = null;
  let timer = null;
  let loading = false;
  let again = false;

  const $ = (id) => document.getElementById(id);

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function row(cells) {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      if (cell instanceof Node) td.appendChild(cell);
      else td.textContent = cell === null || cell === undefined ? "" : String(cell);
      tr.appendChild(td);
    }
    return tr;
  }

  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  function badge(text, level) {
    return el("span", text, "badge" + (level ? " " + level : ""));
  }

  function utc(seconds) {
    return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  function localTime(seconds) {
    return new Date(seconds * 1000).toLocaleTimeString([], { hour12: false });
  }

  async function call(method, path, body) {
    const options = { method, headers: { Accept: "application/json" }, cache: "no-store" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(`${method} ${path}: HTTP ${response.status} ${data.error || ""}`.trim());
    }
    return data;
  }

  function showProblem(message) {
    const box = $("problem");
    box.hidden = !message;
    box.textContent = message || "";
  }

  // -- rendering ------------------------------------------------------------------------

  function renderClock(clock) {
    const now = $("clock-now");
    now.textContent = utc(clock.now);
    now.dateTime = new Date(clock.now * 1000).toISOString();
    const mode = $("clock-mode");
    mode.textContent = clock.frozen ? "frozen: moves only when advanced" : "running with real time";
    mode.className = "badge" + (clock.frozen ? "" : " ok");
  }

  function renderSellers(sellers) {
    fill($("sellers"), sellers.map((seller) => {
      const name = el("div", seller.seller_name);
      const id = el("div", seller.open_id, "muted mono");
      const who = document.createDocumentFragment();
      who.append(name, id);
      const authorization = el("div", null, "cell-actions");
      if (seller.authorized) {
        const action = el("button", "Deauthorize", "secondary small");
        action.type = "button";
        action.addEventListener("click", () => deauthorize(seller));
        const addShop = el("button", "Add a shop", "secondary small");
        addShop.type = "button";
        addShop.addEventListener("click", (event) => act(event.currentTarget, () =>
          call("POST", `/sandbox/sellers/${encodeURIComponent(seller.open_id)}/shops`, {})));
        authorization.append(badge("authorized", "ok"), action, addShop);
      } else {
        authorization.append(badge("deauthorized", "bad"));
      }
      return row([who, `${seller.shop_ids.length} (${seller.region})`, authorization]);
    }));
  }

  function renderShops(shops, webhooks) {
    fill($("shops"), shops.map((shop) => {
      const subs = webhooks[shop.id] || [];
      let subscriptions;
      if (!subs.length) {
        subscriptions = el("span", "none", "muted");
      } else {
        const addresses = [...new Set(subs.map((s) => s.address))];
        subscriptions = document.createDocumentFragment();
        subscriptions.append(
          el("div", `${subs.length} event type${subs.length === 1 ? "" : "s"}`),
          el("div", addresses.length === 1 ? addresses[0] : `${addresses.length} addresses`, "muted mono"),
        );
      }
      return row([shop.name, el("span", shop.id, "mono"), shop.region, shop.seller_type,
        el("span", shop.open_id, "mono muted"), subscriptions]);
    }));
  }

  function deliveryStatus(d) {
    const what = d.http_status !== null ? `HTTP ${d.http_status}` : (d.error || "no answer");
    if (d.ok) return badge(d.http_status === 200 ? `${what} delivered` : `${what} accepted`, "ok");
    if (d.gave_up) return badge(`${what} · gave up`, "bad");
    return badge(`${what} · will retry`, "warn");
  }

  function renderDeliveries(data) {
    const items = data.deliveries.slice().reverse();
    fill($("deliveries"), items.map((d) => {
      const event = document.createDocumentFragment();
      event.append(el("span", d.event_type));
      if (d.duplicate) event.append(" ", badge("duplicate"));
      const tr = row([localTime(d.time), event, el("span", d.shop_id, "mono"), d.attempt,
        deliveryStatus(d), el("span", d.notification_id, "mono muted")]);
      tr.dataset.status = d.ok ? "ok" : (d.gave_up ? "gave-up" : "retrying");
      return tr;
    }));
    $("deliveries-empty").hidden = items.length > 0;
    const shown = items.length < data.total ? `last ${items.length} of ${data.total}` : `${data.total}`;
    $("deliveries-summary").textContent =
      `${shown} attempt${data.total === 1 ? "" : "s"} · ${data.pending} pending`;
  }

  function activeFaults(settings) {
    return Object.keys(FAULT_DEFAULTS).filter((key) => settings[key] !== FAULT_DEFAULTS[key]);
  }

  function renderFaults(settings) {
    faults = settings;
    const box = $("faults");
    if (!box.childElementCount) {
      FAULTS.forEach((fault, index) => {
        const button = el("button", fault.label, "toggle");
        button.type = "button";
        button.dataset.fault = String(index);
        button.addEventListener("click", () => toggleFault(fault, button));
        box.appendChild(button);
      });
    }
    for (const button of box.children) {
      const fault = FAULTS[Number(button.dataset.fault)];
      const on = Object.keys(fault.on).some((key) => settings[key] !== fault.off[key]);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    }
    const active = activeFaults(settings);
    let text = active.length
      ? "Active: " + active.map((key) => `${key}=${settings[key]}`).join(", ")
      : "No faults: every call is answered normally.";
    if (active.length && settings.paths.length) text += ` (only paths ${settings.paths.join(", ")})`;
    $("faults-current").textContent = text;
  }

  function renderStats(stats) {
    const entries = Object.entries(stats.requests).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    fill($("requests"), entries.map(([endpoint, count]) => {
      const tr = row([el("span", endpoint, "mono"), count]);
      tr.lastChild.className = "num";
      return tr;
    }));
    $("requests-empty").hidden = entries.length > 0;
    const rejections = Object.values(stats.rejections).reduce((a, b) => a + b, 0);
    const injected = Object.values(stats.faults).reduce((a, b) => a + b, 0);
    $("request-totals").textContent =
      `${stats.total_requests} Open API requests · ${stats.token_get_calls} token get · ` +
      `${stats.token_refresh_calls} token refresh · ${stats.consents} consents · ` +
      `${rejections} rejected · ${injected} faults injected`;
  }

  // The last data each part was drawn from: unchanged parts are not redrawn, so rows keep
  // their focus and selection between polls.
  const drawn = {};

  function changed(part, data) {
    const key = JSON.stringify(data);
    if (drawn[part] === key) return false;
    drawn[part] = key;
    return true;
  }

  function render(state, stats, deliveries) {
    $("count-sellers").textContent = state.sellers.length;
    $("count-shops").textContent = state.shops.length;
    $("count-requests").textContent = stats.total_requests;
    $("count-pending").textContent = deliveries.pending;
    if (changed("clock", state.clock)) renderClock(state.clock);
    if (changed("sellers", state.sellers)) renderSellers(state.sellers);
    const webhooks = state.webhooks || {};
    if (changed("shops", [state.shops, webhooks])) renderShops(state.shops, webhooks);
    if (changed("deliveries", deliveries)) renderDeliveries(deliveries);
    if (changed("faults", state.faults)) renderFaults(state.faults);
    if (changed("stats", stats)) renderStats(stats);
  }

  // -- refreshing -----------------------------------------------------------------------

  async function refresh() {
    if (loading) {
      again = true; // an action finished during a poll: show its effect right after
      return;
    }
    loading = true;
    clearTimeout(timer);
    let pending = 0;
    try {
      const [state, stats, deliveries] = await Promise.all([
        call("GET", "/sandbox/state"),
        call("GET", "/sandbox/stats"),
        call("GET", `/sandbox/webhooks/deliveries?limit=${RECENT_DELIVERIES}`),
      ]);
      render(state, stats, deliveries);
      pending = deliveries.pending;
      showProblem("");
      $("updated").textContent = "updated " + new Date().toLocaleTimeString([], { hour12: false });
    } catch (error) {
      showProblem(`The sandbox does not answer (${error.message}); retrying.`);
    } finally {
      loading = false;
      const delay = again ? 0 : pending > 0 ? BUSY_POLL_MS : POLL_MS;
      again = false;
      if (!document.hidden) timer = setTimeout(refresh, delay);
    }
  }

  async function act(button, work) {
    const buttons = document.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await work();
      showProblem("");
    } catch (error) {
      showProblem(error.message);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
      await refresh();
      if (button) button.focus();
    }
  }

  // -- actions --------------------------------------------------------------------------

  function advance(button) {
    const seconds = Number(button.dataset.seconds);
    return act(button, async () => {
      const result = await call("POST", "/sandbox/clock/advance", { seconds });
      $("advance-result").textContent =
        `${button.textContent}: ${result.events} event${result.events === 1 ? "" : "s"}, ` +
        `${result.pushed} webhook push${result.pushed === 1 ? "" : "es"} queued` +
        (result.events_dropped ? ` (${result.events_dropped} over the cap not pushed)` : "");
    });
  }

  function toggleFault(fault, button) {
    const on = button.getAttribute("aria-pressed") !== "true";
    return act(button, async () => {
      const current = faults || (await call("GET", "/sandbox/faults"));
      await call("POST", "/sandbox/faults", Object.assign({}, current, on ? fault.on : fault.off));
    });
  }

  function deauthorize(seller) {
    const sure = window.confirm(
      `Deauthorize ${seller.seller_name}? Its tokens stop working and SELLER_DEAUTHORIZATION ` +
      "is pushed for its shops.");
    if (!sure) return undefined;
    return act(null, () => call("POST", `/sandbox/sellers/${encodeURIComponent(seller.open_id)}/deauthorize`));
  }

  function start() {
    for (const id of ["advance-hour", "advance-day"]) {
      const button = $(id);
      button.addEventListener("click", () => advance(button));
    }
    $("faults-off").addEventListener("click", (event) =>
      act(event.currentTarget, () => call("DELETE", "/sandbox/faults")));
    $("add-seller").addEventListener("click", (event) =>
      act(event.currentTarget, () => call("POST", "/sandbox/sellers", { shops: 1 })));
    $("stats-reset").addEventListener("click", (event) =>
      act(event.currentTarget, () => call("POST", "/sandbox/stats/reset")));
    document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
    refresh();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
