// The ticket page's co-browse bridge: the official agent SDK (CobrowseAPI) drives the embed
// through attachContext(), reports what it sees to the helpdesk (which verifies it), and runs
// the product's own in-session toolbar. It also follows the customer's devices and sessions.
(function () {
  "use strict";
  const card = document.getElementById("cobrowse");
  const viewer = document.getElementById("cobrowse-viewer");
  if (!card || !viewer || typeof window.CobrowseAPI !== "function") return;

  const cfg = JSON.parse(card.dataset.config);
  const cobrowse = new window.CobrowseAPI(cfg.token, { api: cfg.api });
  const frameBox = document.getElementById("cobrowse-frame");
  const stateBadge = document.getElementById("cobrowse-state");
  const statusLine = card.querySelector(".cobrowse-status");
  const RPC_TIMEOUT = 10000;
  let ctx = null;
  let session = null;
  let lastReported = "";
  let token = cfg.token;
  let tokenExpires = cfg.tokenExpires;

  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    const hx = document.body.getAttribute("hx-headers");
    try { return JSON.parse(hx)["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function say(text, isError) {
    statusLine.textContent = text || "";
    statusLine.classList.toggle("error", !!isError);
  }

  // What the bridge saw, as JSON; or, with a url, a form post (the confirmation of a link).
  async function report(body, url) {
    try {
      const response = await fetch(url || cfg.bridgeUrl, {
        method: "POST", credentials: "same-origin",
        headers: url ? { "X-CSRFToken": csrf() } : { "Content-Type": "application/json", "X-CSRFToken": csrf() },
        body: url ? new URLSearchParams(body) : JSON.stringify(body),
      });
      const data = await response.json().catch(function () { return { ok: false, error: "Unexpected answer (" + response.status + ")." }; });
      const offer = statusLine.querySelector("[data-confirm-session]");
      if (data.ok && data.link && offer && offer.dataset.confirmSession === data.link.session_id) say("Session linked to this ticket.");
      if (!data.ok) say(data.error, true);
      if (data.state === "needs_confirmation") offerConfirm(data);
      return data;
    } catch (e) {
      say("The helpdesk could not be reached; the session was not recorded.", true);
      return { ok: false };
    }
  }

  // The session's device could not be matched to the customer: the agent may link it anyway
  // (the server checks again, and never links another customer's device).
  function offerConfirm(offer) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-small";
    button.textContent = "Link it anyway";
    button.dataset.confirmSession = offer.session_id;
    button.addEventListener("click", function () {
      button.disabled = true;
      report({ session_id: offer.session_id }, offer.confirm_url).then(function (r) { if (r.ok) say("Session linked to this ticket."); });
    });
    statusLine.append(" ", button);
  }

  function withTimeout(promise) {
    return Promise.race([promise, new Promise(function (_, reject) {
      setTimeout(function () { reject(new Error("The co-browse session did not answer.")); }, RPC_TIMEOUT);
    })]);
  }

  // --- token refresh: a fresh JWT before the old one expires ------------------------------
  async function refreshToken(force) {
    const response = await fetch(cfg.tokenUrl + (force ? "?refresh=1" : ""), { credentials: "same-origin" });
    if (!response.ok) throw new Error("token refresh failed");
    const data = await response.json();
    token = data.token; tokenExpires = data.expires;
    cobrowse.token = token;
    scheduleRefresh();
  }
  function scheduleRefresh() {
    const ms = Math.max(5000, (tokenExpires - Date.now() / 1000 - 90) * 1000);
    setTimeout(function () { refreshToken(false).catch(function () { setTimeout(scheduleRefresh, 10000); }); }, ms);
  }
  scheduleRefresh();
  cobrowse.on("error", function (err) {
    if (err && err.name === "TokenExpiredError") {
      refreshToken(true).then(follow).catch(function () { say("Co-browse sign-in expired; reload the page.", true); });
    }
  });

  // --- the embed ----------------------------------------------------------------------------
  function withToken(url) {
    const u = new URL(url);
    u.searchParams.set("token", token);
    return u.toString();
  }

  function sessionUrl(id) {
    const u = new URL("/session/" + encodeURIComponent(id), cfg.api);
    Object.entries(Object.assign({ end_action: "none" }, cfg.ownControls)).forEach(function (kv) { u.searchParams.set(kv[0], kv[1]); });
    return withToken(u.toString());
  }

  function showState(s) {
    const state = s ? s.state || "loaded" : "connecting";
    stateBadge.textContent = state + (s && s.full_device === "on" ? " · full device" : "") + (s && s.remote_control === "on" ? " · remote control" : "");
    stateBadge.className = "badge session-" + state;
    const focused = viewer.contains(document.activeElement);
    viewer.querySelectorAll("[data-needs-session] button").forEach(function (b) { b.disabled = !s || s.state !== "active"; });
    // A button disabled under the keyboard's focus (End, once the session ended) would drop it to the page.
    if (focused && (!viewer.contains(document.activeElement) || document.activeElement.disabled)) viewer.focus();
  }

  async function open(url) {
    close(false);
    viewer.hidden = false;
    viewer.focus();  // the keyboard's next Tab is the session's toolbar, not the rest of the page
    showState(null);
    say("");
    const frame = document.createElement("iframe");
    frame.src = url;
    frame.title = "Co-browse session";
    frame.setAttribute("allow", "clipboard-write");
    frameBox.appendChild(frame);
    ctx = await cobrowse.attachContext(frame);
    ctx.on("session.loaded", function (s) {
      session = s;
      lastReported = "";
      report({ event: "session.loaded", session_id: s.id }).then(function (r) { if (r.ok) say("Session linked to this ticket."); });
    });
    ctx.on("session.updated", function (s) {
      session = s;
      showState(s);
      const key = [s.id, s.state, s.full_device, s.remote_control].join("|");
      if (lastReported && key !== lastReported) report({ event: "session.updated", session_id: s.id });
      lastReported = key;
    });
    ctx.on("error", function (err) { say(err.message || "The co-browse embed reported an error.", true); });
  }

  function close(reportLeft) {
    if (reportLeft && session && session.state !== "ended") report({ event: "left", session_id: session.id });
    if (viewer.contains(document.activeElement)) card.querySelector("[data-cobrowse-open]").focus();
    if (ctx) ctx.destroy();
    ctx = null; session = null;
    frameBox.textContent = "";
    viewer.hidden = true;
  }

  async function run(label, fn, tool) {
    if (!ctx || !session) return;
    try {
      await withTimeout(fn());
      if (tool) report({ event: "tool", session_id: session.id, tool: tool });
    } catch (e) {
      say(label + " failed: " + (e && e.message ? e.message : e), true);
    }
  }

  viewer.addEventListener("click", function (e) {
    const button = e.target.closest("button");
    if (!button) return;
    const tool = button.dataset.tool;
    if (tool) {
      return run("Choosing the " + tool, function () { return ctx.setTool(tool); }, tool).then(function () {
        viewer.querySelectorAll("[data-tool]").forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
      });
    }
    switch (button.dataset.action) {
      case "clear": return run("Clearing drawings", function () { return ctx.clearAnnotations(); }, "clear");
      case "full_device": return run("Requesting full device", function () { return ctx.setFullDevice("requested"); }, "full_device");
      case "remote_control": return run("Requesting remote control", function () { return ctx.setRemoteControl("requested"); }, "remote_control");
      case "end": return run("Ending the session", function () { return ctx.endSession(); }, "end");
      case "leave": return close(true);
    }
  });

  card.addEventListener("click", function (e) {
    const which = e.target.closest("[data-cobrowse-open]");
    if (which) open(withToken(which.dataset.cobrowseOpen === "code" ? cfg.codeUrl : cfg.connectUrl));
  });
  document.addEventListener("click", function (e) {
    const reopen = e.target.closest("[data-cobrowse-reopen]");
    if (reopen) open(sessionUrl(reopen.dataset.cobrowseReopen));
  });

  // --- follow the customer's devices and sessions (the SDK's list + subscribe) --------------
  const followed = new Set();
  const devicesSeen = new Map();  // device id -> the SDK's Device, whose online comes from presence
  function refreshPanel() { document.body.dispatchEvent(new CustomEvent("cobrowse-refresh")); }
  function markPresence(device) {
    document.querySelectorAll('[data-device-id="' + CSS.escape(device.id) + '"] .presence').forEach(function (dot) {
      dot.dataset.online = String(!!device.online);
    });
  }
  async function follow() {
    // Online devices first: presence is known here only (not from REST); the server's order
    // (newest first, data-rank) is kept within online and offline devices.
    function onlineFirst() {
      const list = document.querySelector("#cobrowse-devices .device-window ul");
      if (!list) return;
      const online = function (li) { return li.querySelector('.presence[data-online="true"]') ? 0 : 1; };
      Array.from(list.children)
        .sort(function (a, b) { return online(a) - online(b) || a.dataset.rank - b.dataset.rank; })
        .forEach(function (li) { list.appendChild(li); });
    }
    onlineFirst();
    try {
      const filter = { filter_user_id: cfg.customerUserId };
      // The window the card shows (the panel says which): presence is followed for those
      // devices, not for every device the customer ever used. None until the panel has loaded.
      const shown = document.querySelector("#cobrowse-devices [data-seen-after]");
      const devices = shown ? await cobrowse.devices.list(Object.assign({
        seen_after: new Date(shown.dataset.seenAfter), limit: Number(shown.dataset.limit),
      }, filter)) : [];
      devices.forEach(function (device) {
        if (followed.has("d:" + device.id)) return;
        followed.add("d:" + device.id);
        devicesSeen.set(device.id, device);
        device.on("updated", function (d) { markPresence(d); onlineFirst(); refreshPanel(); });
        device.subscribe();
      });
      const sessions = await cobrowse.sessions.list(Object.assign({ state: ["pending", "authorizing", "active"] }, filter));
      sessions.forEach(function (s) {
        if (followed.has("s:" + s.id)) return;
        followed.add("s:" + s.id);
        s.on("updated", function (updated) {
          refreshPanel();
          if (document.querySelector('[data-session-id="' + CSS.escape(updated.id) + '"]')) {
            report({ event: "session.updated", session_id: updated.id });
          }
        });
        s.subscribe();
      });
    } catch (e) {
      // The panel shows the service's state; following resumes on the next refresh.
    }
  }
  follow();
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "cobrowse-devices") {
      devicesSeen.forEach(markPresence);  // the server's list has no presence; keep what the socket said
      follow();
    }
  });
})();
