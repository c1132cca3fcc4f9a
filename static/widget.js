/* Helpdesk live chat widget. One script tag on any site, no build step:
 *
 *   <script src="https://helpdesk.example.com/static/widget.js" async
 *           data-site="shop" data-user-id="customer-001" data-expires="1767225600"
 *           data-signature="<hex HMAC-SHA256 from your backend>" data-name="Maria"></script>
 *
 * data-helpdesk (the helpdesk origin) defaults to the origin the script was loaded from.
 * Message text is always inserted with textContent, never as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-site][src*='widget.js']");
  if (!script || window.__helpdeskChatWidget) return;
  window.__helpdeskChatWidget = true;
  var cfg = {
    origin: (script.dataset.helpdesk || new URL(script.src, location.href).origin).replace(/\/$/, ""),
    site: script.dataset.site || "",
    userId: script.dataset.userId || "",
    expires: script.dataset.expires || "",
    signature: script.dataset.signature || "",
    name: script.dataset.name || "",
    title: script.dataset.title || "Chat with us"
  };
  var FATAL = { 4401: true, 4403: true };
  var storeKey = "hdw:" + cfg.site + ":" + cfg.userId;

  // --- state ----------------------------------------------------------------------------------
  var ws = null, attempt = 0, fatal = false, ready = false, lastSeen = 0, chat = null, maxChars = 4000;
  var shown = {};          // message id -> element
  var pending = {};        // client_id -> element (sent, not yet acknowledged)
  var outbox = load();     // [{client_id, body}] survives reconnects and reloads until acknowledged

  function load() {
    try { return JSON.parse(sessionStorage.getItem(storeKey) || "[]"); } catch (e) { return []; }
  }
  function save() {
    try { sessionStorage.setItem(storeKey, JSON.stringify(outbox)); } catch (e) { /* private mode */ }
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // --- DOM ------------------------------------------------------------------------------------
  var css = [
    ".hdw-root{position:fixed;right:20px;bottom:20px;z-index:2147483000;font:14px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;color:#1f2937}",
    ".hdw-launcher{background:#3454d1;color:#fff;border:0;border-radius:999px;padding:.7em 1.2em;font:inherit;font-weight:600;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.2)}",
    ".hdw-panel{display:none;flex-direction:column;width:320px;max-width:calc(100vw - 40px);height:440px;max-height:calc(100vh - 90px);background:#fff;border:1px solid #d0d5dd;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.18);overflow:hidden;margin-bottom:10px}",
    ".hdw-open .hdw-panel{display:flex}",
    ".hdw-head{display:flex;align-items:center;gap:.5em;background:#3454d1;color:#fff;padding:.6em .8em}",
    ".hdw-title{font-weight:600;flex:1}",
    ".hdw-status{font-size:.8em;opacity:.85}",
    ".hdw-end,.hdw-x{background:none;border:1px solid rgba(255,255,255,.5);color:#fff;border-radius:6px;font:inherit;font-size:.8em;cursor:pointer;padding:.15em .5em}",
    ".hdw-list{list-style:none;margin:0;padding:.7em;flex:1;overflow-y:auto;display:flex;flex-direction:column;gap:.45em;background:#f8f9fb}",
    ".hdw-msg{max-width:85%;padding:.45em .7em;border-radius:10px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".hdw-msg-customer{align-self:flex-end;background:#3454d1;color:#fff}",
    ".hdw-msg-agent{align-self:flex-start;background:#fff;border:1px solid #e4e7ec}",
    ".hdw-msg-pending{opacity:.6}",
    ".hdw-msg-failed{background:#fef3f2;color:#b42318;border:1px solid #f7c6c3}",
    ".hdw-author{display:block;font-size:.75em;font-weight:600;opacity:.8}",
    ".hdw-note{align-self:center;font-size:.8em;color:#667085;text-align:center}",
    ".hdw-error{margin:0;padding:.4em .8em;background:#fef3f2;color:#b42318;font-size:.85em}",
    ".hdw-error:empty{display:none}",
    ".hdw-form{display:flex;gap:.4em;padding:.5em;border-top:1px solid #e4e7ec}",
    ".hdw-input{flex:1;resize:none;font:inherit;border:1px solid #d0d5dd;border-radius:8px;padding:.4em .5em;min-height:2.4em}",
    ".hdw-send,.hdw-new{background:#3454d1;color:#fff;border:0;border-radius:8px;font:inherit;font-weight:600;padding:0 .9em;cursor:pointer}",
    ".hdw-closed .hdw-form,.hdw-closed .hdw-end{display:none}",
    ".hdw-new{display:none;margin:.5em;padding:.5em}",
    ".hdw-closed .hdw-new{display:block}"
  ].join("\n");

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }
  var style = el("style"); style.textContent = css; document.head.appendChild(style);
  var root = el("div", "hdw-root");
  var panel = el("div", "hdw-panel"); panel.setAttribute("role", "dialog"); panel.setAttribute("aria-label", cfg.title);
  var head = el("div", "hdw-head");
  var title = el("span", "hdw-title", cfg.title);
  var status = el("span", "hdw-status", "Connecting…"); status.setAttribute("role", "status");
  var endBtn = el("button", "hdw-end", "End chat"); endBtn.type = "button";
  var hideBtn = el("button", "hdw-x", "–"); hideBtn.type = "button"; hideBtn.setAttribute("aria-label", "Minimise chat");
  head.append(title, status, endBtn, hideBtn);
  var list = el("ol", "hdw-list"); list.setAttribute("aria-live", "polite"); list.setAttribute("aria-relevant", "additions");
  var errorLine = el("p", "hdw-error"); errorLine.setAttribute("role", "alert");
  var form = el("form", "hdw-form");
  var input = el("textarea", "hdw-input"); input.rows = 2; input.placeholder = "Type a message…"; input.setAttribute("aria-label", "Message");
  var sendBtn = el("button", "hdw-send", "Send"); sendBtn.type = "submit";
  form.append(input, sendBtn);
  var newBtn = el("button", "hdw-new", "Start a new chat"); newBtn.type = "button";
  panel.append(head, list, errorLine, newBtn, form);
  var launcher = el("button", "hdw-launcher", cfg.title); launcher.type = "button";
  root.append(panel, launcher);

  function mount() { document.body.appendChild(root); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  function scroll() { list.scrollTop = list.scrollHeight; }
  function showError(text) { errorLine.textContent = text || ""; }
  function note(text) { list.appendChild(el("li", "hdw-note", text)); scroll(); }
  function setStatus(text) { status.textContent = text; }

  function bubble(from, author, body) {
    var li = el("li", "hdw-msg hdw-msg-" + from);
    if (author && from === "agent") li.appendChild(el("span", "hdw-author", author));
    li.appendChild(el("span", "hdw-body", body));   // textContent: HTML in a message stays text
    list.appendChild(li); scroll();
    return li;
  }

  function showMessage(m) {
    if (m.id > lastSeen) lastSeen = m.id;
    if (shown[m.id]) return;
    var li = m.client_id && pending[m.client_id];
    if (li) { delete pending[m.client_id]; li.classList.remove("hdw-msg-pending"); }
    else li = bubble(m.from, m.author, m.body);
    li.dataset.id = m.id;
    shown[m.id] = li;
  }

  function acknowledge(clientId, id) {
    outbox = outbox.filter(function (o) { return o.client_id !== clientId; }); save();
    var li = pending[clientId];
    if (li && !shown[id]) { delete pending[clientId]; li.classList.remove("hdw-msg-pending"); li.dataset.id = id; shown[id] = li; }
  }

  function fail(clientId, text) {
    outbox = outbox.filter(function (o) { return o.client_id !== clientId; }); save();
    var li = pending[clientId];
    if (li) { delete pending[clientId]; li.classList.remove("hdw-msg-pending"); li.classList.add("hdw-msg-failed"); li.title = text; }
  }

  // --- socket ---------------------------------------------------------------------------------
  function send(frame) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
    return false;
  }
  function flush() { if (ready) outbox.forEach(function (o) { send({ type: "message", client_id: o.client_id, body: o.body }); }); }

  function connect() {
    if (fatal) return;
    var url = cfg.origin.replace(/^http/, "ws") + "/ws/chat/";
    setStatus(attempt ? "Reconnecting…" : "Connecting…");
    ws = new WebSocket(url);
    ws.onopen = function () {
      attempt = 0;
      send({ type: lastSeen ? "resume" : "hello", site: cfg.site, user_id: cfg.userId, expires: cfg.expires,
             signature: cfg.signature, name: cfg.name, last_seen: lastSeen || null });
    };
    ws.onmessage = function (e) {
      var f; try { f = JSON.parse(e.data); } catch (err) { return; }
      handle(f);
    };
    ws.onclose = function (e) {
      ready = false;
      if (FATAL[e.code]) { fatal = true; setStatus("Unavailable"); input.disabled = sendBtn.disabled = true; return; }
      var delay = Math.min(15000, 500 * Math.pow(2, attempt++)) * (0.75 + Math.random() / 2);
      setStatus("Offline – retrying");
      setTimeout(connect, delay);
    };
  }

  function setChat(info) {
    chat = info;
    root.classList.remove("hdw-closed");
    setStatus(info ? (info.state === "waiting" ? "Waiting for an agent" : "Connected") : "Online");
  }

  function handle(f) {
    switch (f.type) {
      case "welcome":
        ready = true; showError("");
        if (f.limits) maxChars = f.limits.max_chars;
        setChat(f.chat);
        if (f.chat) root.classList.add("hdw-open");
        flush();
        break;
      case "history": f.messages.forEach(showMessage); break;
      case "message": showMessage(f); break;
      case "ack": acknowledge(f.client_id, f.id); break;
      case "state": if (f.chat) setChat(f.chat); break;
      case "closed":
        chat = null; root.classList.add("hdw-closed"); setStatus("Chat ended");
        note(f.reason === "customer" ? "You ended the chat." : "The chat has been closed.");
        break;
      case "error":
        showError(f.text);
        if (f.client_id) {
          if (f.code === "rate_limited") setTimeout(flush, Math.max(1000, (f.retry_after || 1) * 1000));
          else fail(f.client_id, f.text);
        }
        break;
    }
  }

  // --- user actions -----------------------------------------------------------------------------
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = input.value.trim();
    if (!body) return;
    if (body.length > maxChars) { showError("The message is longer than " + maxChars + " characters."); return; }
    var item = { client_id: newId(), body: body };
    outbox.push(item); save();
    var li = bubble("customer", null, body); li.classList.add("hdw-msg-pending");
    pending[item.client_id] = li;
    input.value = ""; showError("");
    if (ready) send({ type: "message", client_id: item.client_id, body: body });
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  // The heartbeat: without it for 90 s the server counts the customer as gone (see chat_presence).
  setInterval(function () { if (ready) send({ type: "ping" }); }, 30000);
  // The agents see "… is typing" while the customer writes in an open chat (at most every 2 s).
  var lastTyping = 0;
  input.addEventListener("input", function () {
    var now = Date.now();
    if (chat && ready && input.value.trim() && now - lastTyping > 2000) { lastTyping = now; send({ type: "typing" }); }
  });
  endBtn.addEventListener("click", function () { if (chat) send({ type: "close" }); });
  newBtn.addEventListener("click", function () {
    root.classList.remove("hdw-closed"); list.textContent = ""; shown = {}; setChat(null); input.focus();
  });
  launcher.addEventListener("click", function () { root.classList.toggle("hdw-open"); if (root.classList.contains("hdw-open")) input.focus(); });
  hideBtn.addEventListener("click", function () { root.classList.remove("hdw-open"); });
  // Outbox items from before a reload are shown as pending and re-sent with the same client_id.
  outbox.forEach(function (o) { var li = bubble("customer", null, o.body); li.classList.add("hdw-msg-pending"); pending[o.client_id] = li; });

  connect();
})();
