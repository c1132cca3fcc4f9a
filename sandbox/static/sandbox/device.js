// A simulated Cobrowse device (the customer's side): presence, codes, consent, a redacted mirror
// of this page for the agent, and the agent's laser pointer and drawings on top of it.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("device-config").textContent);
  const $ = (id) => document.getElementById(id);
  const key = "sandbox-device-id:" + cfg.user_id;
  const deviceId = cfg.device_id || localStorage.getItem(key) || ("dev_web_" + Math.random().toString(36).slice(2, 14));
  localStorage.setItem(key, deviceId);
  const sessions = {};
  let socket = null, retry = 0, active = null, frameTimer = null;
  window.sentFrames = [];

  function connect() {
    const q = new URLSearchParams({ device_id: deviceId, user_id: cfg.user_id, name: cfg.name });
    if (cfg.license_key) q.set("license_key", cfg.license_key);
    socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/sockets/device/?" + q.toString());
    socket.addEventListener("open", function () { retry = 0; $("presence").textContent = "Online: support can see this device."; });
    socket.addEventListener("close", function () {
      $("presence").textContent = "Offline, reconnecting…";
      setTimeout(connect, Math.min(10000, 500 * Math.pow(2, retry++)));
    });
    socket.addEventListener("message", function (e) { handle(JSON.parse(e.data)); });
  }
  function sendJSON(m) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(m)); }
  function action(s, name) { sendJSON({ type: "action", session_id: s.id, action: name }); }

  function handle(m) {
    if (m.type === "session") onSession(m.data);
    if (m.type === "tool") onTool(m);
    if (m.type === "want_frame") sendFrame();
    if (m.type === "error") $("session-status").textContent = m.message;
  }

  function prompt(id, text, yes, no) {
    if (document.getElementById(id)) return;
    const box = document.createElement("div");
    box.className = "prompt"; box.id = id; box.dataset.testid = id;
    const p = document.createElement("p"); p.textContent = text;
    const allow = document.createElement("button"); allow.textContent = "Allow"; allow.dataset.testid = id + "-allow";
    const deny = document.createElement("button"); deny.textContent = "Decline"; deny.className = "secondary"; deny.dataset.testid = id + "-decline";
    allow.onclick = function () { box.remove(); yes(); };
    deny.onclick = function () { box.remove(); no(); };
    box.append(p, allow, deny);
    $("prompts").appendChild(box);
  }
  function unprompt(id) { const el = document.getElementById(id); if (el) el.remove(); }

  function onSession(s) {
    sessions[s.id] = s;
    const agent = s.agent ? s.agent.name : "A support agent";
    if (s.state === "pending" && s.code) $("code").textContent = s.code;
    if (s.state === "authorizing") {
      prompt("consent-session", agent + " would like to see your screen.", function () { action(s, "accept"); }, function () { action(s, "decline"); });
    } else unprompt("consent-session");
    if (s.full_device === "requested") {
      prompt("consent-full-device", agent + " asks to see your full device screen.", function () { action(s, "full_device_accept"); }, function () { action(s, "full_device_reject"); });
    } else unprompt("consent-full-device");
    if (s.remote_control === "requested") {
      prompt("consent-remote-control", agent + " asks to control this page remotely.", function () { action(s, "remote_control_accept"); }, function () { action(s, "remote_control_reject"); });
    } else unprompt("consent-remote-control");
    if (s.state === "active") {
      active = s;
      $("code").textContent = "";
      $("end-session").hidden = false;
      $("cobrowse-banner").hidden = false;
      $("cobrowse-banner").textContent = agent + " is viewing this page" + (s.remote_control === "on" ? " and may control it" : "") + ".";
      $("session-status").textContent = "Session active";
      sendFrame();
    }
    if (s.state === "ended" && (!active || active.id === s.id)) {
      active = null;
      $("end-session").hidden = true;
      $("cobrowse-banner").hidden = true;
      $("session-status").textContent = "Session ended";
      $("agent-tool").textContent = "";
      $("laser").hidden = true;
      clearDrawing();
    }
  }

  // --- the agent's tools ------------------------------------------------------------------
  const canvas = $("drawing");
  function sizeCanvas() { canvas.width = innerWidth; canvas.height = innerHeight; }
  sizeCanvas(); addEventListener("resize", sizeCanvas);
  function clearDrawing() { canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height); canvas.dataset.strokes = "0"; }
  function onTool(m) {
    if (!active || m.session_id !== active.id) return;
    const d = m.data || {};
    if (m.tool === "select") $("agent-tool").textContent = "Agent tool: " + d.tool;
    if (m.tool === "laser") {
      const dot = $("laser");
      dot.hidden = false; dot.style.left = (d.x * innerWidth) + "px"; dot.style.top = (d.y * innerHeight) + "px";
      clearTimeout(dot.hideTimer); dot.hideTimer = setTimeout(function () { dot.hidden = true; }, 1500);
    }
    if (m.tool === "draw" && Array.isArray(d.points)) {
      const ctx = canvas.getContext("2d");
      ctx.strokeStyle = "#ef4444"; ctx.lineWidth = 3; ctx.beginPath();
      d.points.forEach(function (p, i) { const x = p.x * innerWidth, y = p.y * innerHeight; if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
      ctx.stroke();
      canvas.dataset.strokes = String(Number(canvas.dataset.strokes || 0) + 1);
    }
    if (m.tool === "clear") clearDrawing();
  }

  // --- the mirror: a serialised snapshot, redacted before it leaves the page ----------------
  function snapshot() {
    const clone = document.documentElement.cloneNode(true);
    clone.querySelectorAll("script, [data-cobrowse-ignore]").forEach(function (el) { el.remove(); });
    const live = document.querySelectorAll("input, textarea");
    const copies = clone.querySelectorAll("input, textarea");
    live.forEach(function (input, i) {
      const copy = copies[i];
      if (!copy) return;
      if (input.closest(".cobrowse-redact, [data-redact]")) return;
      if (copy.tagName === "TEXTAREA") copy.textContent = input.value; else copy.setAttribute("value", input.value);
    });
    clone.querySelectorAll(".cobrowse-redact, [data-redact]").forEach(function (el) {
      if (el.tagName === "INPUT" || el.tagName === "TEXTAREA") { el.setAttribute("value", "████"); el.removeAttribute("placeholder"); }
      else el.textContent = "████";
    });
    return "<!doctype html>" + clone.outerHTML;
  }
  function sendFrame() {
    if (!active) return;
    const html = snapshot();
    window.sentFrames.push(html);  // the last few, for inspection
    if (window.sentFrames.length > 20) window.sentFrames.shift();
    sendJSON({ type: "frame", session_id: active.id, data: { html: html, width: innerWidth, height: innerHeight } });
  }
  function scheduleFrame() { clearTimeout(frameTimer); frameTimer = setTimeout(sendFrame, 150); }
  new MutationObserver(function (mutations) {
    // The overlay, the banner and the support box are not part of the mirrored page.
    if (mutations.some(function (m) { return !(m.target.closest && m.target.closest("[data-cobrowse-ignore]")) && !(m.target.parentElement && m.target.parentElement.closest("[data-cobrowse-ignore]")); })) scheduleFrame();
  }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  document.addEventListener("input", scheduleFrame);

  $("get-code").addEventListener("click", function () { sendJSON({ type: "code" }); });
  $("end-session").addEventListener("click", function () { if (active) action(active, "end"); });
  connect();
  window.sandboxDevice = { id: deviceId, sessions: sessions };
})();
