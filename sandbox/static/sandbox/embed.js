// The sandbox's agent embed: a small single-page app at the service origin. It calls the REST API
// with the agent's JWT, speaks the iframe side of the bridge (CONTRACT 9) with the host page, and
// shows the customer's page mirror with the agent's tools.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("embed-config").textContent);
  const host = window.parent !== window ? window.parent : window.opener;
  const $ = (id) => document.getElementById(id);
  let token = cfg.token_source === "postMessage" ? "" : cfg.token;
  let parentOrigin = null;
  let pending = { session: null, error: null };
  let session = null;
  let socket = null;
  let tool = null;
  let started = false;
  let readOnly = false;  // the token's policy grants sessions read only: watch, never join or act
  window.embedLog = [];

  // --- bridge (iframe side) --------------------------------------------------------------
  function send(event, data, trustedOnly) {
    if (!host) return;
    if (!trustedOnly) { host.postMessage({ cobrowseio: true, event: event, data: data, trustedOnly: false }, "*"); return; }
    if (!parentOrigin) { pending[event] = data; return; }  // flushed once the host trusts us
    host.postMessage({ cobrowseio: true, event: event, data: data, trustedOnly: true }, parentOrigin);
  }
  function flush() {
    ["error", "session"].forEach(function (event) {
      if (pending[event]) { const data = pending[event]; pending[event] = null; send(event, data, true); }
    });
  }
  window.addEventListener("message", function (e) {
    const m = e.data;
    if (!m || !m.cobrowseio || !m.event || e.source !== host) return;
    window.embedLog.push({ origin: e.origin, event: m.event });  // the bridge's recent traffic, for inspection
    if (window.embedLog.length > 200) window.embedLog.shift();
    if (m.event === "trust") { parentOrigin = e.origin; flush(); return; }
    if (e.origin !== parentOrigin) return;  // nothing but trust is accepted from an untrusted origin
    if (m.event === "token") {
      if (typeof m.data === "string" && m.data && m.data !== token) { token = m.data; if (!started || !session) start(); }
      return;
    }
    if (m.event === "rpc:request") rpc(m.data || {});
  });

  function respond(id, result, error) {
    send("rpc:response", error ? { id: id, error: error } : { id: id, data: result }, true);
  }

  async function rpc(request) {
    const id = request.id, data = request.data || {};
    const handlers = {
      "update:tool": function () { writable(); setTool(data.tool); return true; },
      "update:colour": function () { return true; },
      "update:drawing": function () { writable(); sendTool("clear"); return true; },
      "create:control": function () { writable(); return true; },
      "get:user": function () { return api("GET", "/api/1/users/" + encodeURIComponent(data.id || "me")); },
      "create:session": async function () {
        const created = await api("POST", "/api/1/sessions", { agent: "me" });
        showSession(created);
        return created;
      },
      "update:session": async function () {
        if (!session) throw new Error("no session loaded");
        const updated = await api("PUT", "/api/1/sessions/" + session.id, Object.assign({}, data, { id: session.id }));
        showSession(updated);
        return updated;
      },
    };
    if (!handlers[request.method]) return;  // unknown methods get no answer, as in the real embed
    try {
      respond(id, await handlers[request.method]());
    } catch (err) {
      respond(id, null, new Error(err && err.message ? err.message : String(err)));
    }
  }

  function writable() {
    if (readOnly) throw new Error("policy does not allow changing this session");
  }

  // The SDK's policy.hasPermission (CONTRACT 5.4): no permissions array grants every verb.
  function hasPermission(policy, resource, verb) {
    const rule = policy[resource] || policy["*"];
    const permissions = rule && rule.permissions;
    return !Array.isArray(permissions) || permissions.indexOf(verb) !== -1;
  }

  // --- REST ---------------------------------------------------------------------------------
  async function api(method, path, body) {
    const response = await fetch(path, {
      method: method, headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json();
    if (response.status >= 400) {
      const err = new Error(data.message || "request failed");
      err.id = data.id; err.status = response.status;
      throw err;
    }
    return data;
  }

  function fail(err) {
    const error = { id: err.id || (err.status === 401 ? "unauthorized" : "error"), message: err.message };
    $("error").hidden = false;
    $("error").textContent = error.id === "unauthorized" ? "Not signed in: " + error.message : error.message;
    send("error", error, true);
  }

  // --- views --------------------------------------------------------------------------------
  function show(view) {
    ["code-view", "devices-view", "session-view"].forEach(function (v) { $(v).hidden = v !== view; });
  }

  function showSession(s) {
    const isNew = !session || session.id !== s.id;
    session = s;
    show("session-view");
    $("session-state").textContent = s.state + (s.full_device === "on" ? " · full device" : "") +
      (s.remote_control === "on" ? " · remote control" : "");
    $("session-details").textContent = JSON.stringify(s.custom_data || {});
    $("messages").textContent = { pending: "Waiting for the device to join…", authorizing: "Waiting for the customer to accept…",
      active: "Connected to the customer's device.", ended: "The session has ended." }[s.state] || "";
    if (isNew) watch(s.id);
    send("session", s, true);
    if (s.state === "ended") ended();
  }

  function ended() {
    $("ended").hidden = false;
    $("viewer").hidden = true;
    const params = new URLSearchParams(cfg.passthrough);
    if (cfg.end_action === "dashboard" || cfg.end_action === "code") {
      params.set("token", token);
      setTimeout(function () { location.href = "/" + cfg.end_action + "?" + params.toString(); }, 300);
    }
  }

  async function loadSession(id) {
    let s = await api("GET", "/api/1/sessions/" + encodeURIComponent(id));
    const me = await api("GET", "/api/1/users/me");
    readOnly = !hasPermission(await api("GET", "/api/1/policy/current"), "sessions", "write");
    document.body.classList.toggle("read-only", readOnly);
    const joined = (s.agents || []).some(function (a) { return a.id === me.id; });
    if (s.state !== "ended" && !joined && !readOnly) s = await api("PUT", "/api/1/sessions/" + s.id, { agent: "me", id: s.id });
    showSession(s);
  }

  async function connectTo(device) {
    const s = await api("POST", "/api/1/sessions", { custom_data: device.custom_data, agent: "me" });
    showSession(s);
    await api("POST", "/api/1/devices/" + encodeURIComponent(device.id) + "/notifications", { session: s.id, attempt: 1 });
  }

  async function listDevices(filters, autoConnect) {
    show("devices-view");
    const query = new URLSearchParams();
    Object.entries(filters).forEach(function (kv) { query.set("filter_" + kv[0], kv[1]); });
    const devices = (await api("GET", "/api/1/devices?" + query.toString())).filter(function (d) { return d.online; });
    const list = $("device-list");
    list.textContent = "";
    $("no-devices").hidden = devices.length > 0;
    if (autoConnect && devices.length === 1) return connectTo(devices[0]);
    devices.forEach(function (d) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.textContent = "Connect";
      button.dataset.deviceId = d.id;
      button.addEventListener("click", function () { connectTo(d).catch(fail); });
      const label = document.createElement("span");
      label.textContent = " " + ((d.custom_data && (d.custom_data.user_name || d.custom_data.user_id)) || d.id) + " · " + ((d.device && d.device.device) || "device");
      li.append(button, label);
      list.appendChild(li);
    });
  }

  $("code-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    try {
      const found = await api("GET", "/api/1/sessions/" + $("code-input").value.trim());
      const s = await api("PUT", "/api/1/sessions/" + found.id, { agent: "me", id: found.id });
      showSession(s);
    } catch (err) { fail(err); }
  });
  document.querySelectorAll("[data-nav]").forEach(function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      if (a.dataset.nav === "code") show("code-view"); else listDevices(cfg.filters, false).catch(fail);
    });
  });

  // --- viewer and tools ------------------------------------------------------------------------
  function watch(id) {
    if (!socket || socket.readyState > 1) {
      socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/sockets/embed/?token=" + encodeURIComponent(token));
      socket.addEventListener("message", function (e) {
        const m = JSON.parse(e.data);
        if (m.type === "session" && session && m.data.id === session.id) showSession(m.data);
        if (m.type === "frame") renderFrame(m.data);
      });
      socket.addEventListener("open", function () {
        if (session) socket.send(JSON.stringify({ type: "watch", session_id: session.id }));
        while (outbox.length) socket.send(outbox.shift());
      });
    } else if (socket.readyState === 1) {
      socket.send(JSON.stringify({ type: "watch", session_id: id }));
    }
  }

  function renderFrame(frame) {
    $("waiting").hidden = true;
    const mirror = $("mirror"), viewer = $("viewer"), overlay = $("overlay");
    const width = frame.width || 1280, height = frame.height || 800;
    const scale = Math.min(viewer.clientWidth / width, viewer.clientHeight / height, 1);
    mirror.style.width = width + "px";
    mirror.style.height = height + "px";
    mirror.style.transform = "scale(" + scale + ")";
    overlay.style.width = width * scale + "px";
    overlay.style.height = height * scale + "px";
    mirror.srcdoc = frame.html;
    window.lastFrame = frame.html;
  }

  const outbox = [];
  function sendTool(name, data) {
    if (!session) return;
    const message = JSON.stringify({ type: "tool", session_id: session.id, tool: name, data: data || null });
    if (socket && socket.readyState === 1) socket.send(message);
    else outbox.push(message);  // sent once the socket is open
  }

  function setTool(name) {
    tool = name;
    sendTool("select", { tool: name });
  }

  let stroke = null, lastLaser = 0;
  function point(e) {
    const box = $("overlay").getBoundingClientRect();
    return { x: (e.clientX - box.left) / box.width, y: (e.clientY - box.top) / box.height };
  }
  $("overlay").addEventListener("mousemove", function (e) {
    if (tool === "laser" && Date.now() - lastLaser > 30) { lastLaser = Date.now(); sendTool("laser", point(e)); }
    if (tool === "drawing" && stroke) stroke.push(point(e));
  });
  $("overlay").addEventListener("mousedown", function (e) { if (tool === "drawing") stroke = [point(e)]; });
  $("overlay").addEventListener("mouseup", function () {
    if (stroke && stroke.length > 1) sendTool("draw", { points: stroke });
    stroke = null;
  });
  document.querySelectorAll("[data-tool]").forEach(function (b) { b.addEventListener("click", function () { setTool(b.dataset.tool); }); });
  document.querySelector("[data-clear]").addEventListener("click", function () { sendTool("clear"); });
  document.querySelectorAll("[data-request]").forEach(function (b) {
    b.addEventListener("click", function () {
      const change = {}; change[b.dataset.request] = "requested";
      api("PUT", "/api/1/sessions/" + session.id, Object.assign(change, { id: session.id })).then(showSession, fail);
    });
  });
  document.querySelector("[data-end]").addEventListener("click", function () {
    api("PUT", "/api/1/sessions/" + session.id, { state: "ended", id: session.id }).then(showSession, fail);
  });

  // --- start ------------------------------------------------------------------------------------
  async function start() {
    if (!token) {
      if (cfg.token_source !== "postMessage") fail({ id: "unauthorized", status: 401, message: "jwt must be provided" });
      return;
    }
    started = true;
    $("error").hidden = true;
    try {
      if (cfg.page === "session") await loadSession(cfg.session_id);
      else if (cfg.page === "code") { await api("GET", "/api/1/users/me"); show("code-view"); }
      else if (cfg.page === "connect" && cfg.device_id) await connectTo(await api("GET", "/api/1/devices/" + encodeURIComponent(cfg.device_id)));
      else if (cfg.page === "connect") await listDevices(cfg.filters, true);
      else await listDevices(cfg.filters, false);
    } catch (err) { fail(err); }
  }

  send("init", null, false);
  start();
})();
