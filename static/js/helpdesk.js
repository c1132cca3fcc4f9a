// Keyboard shortcuts and htmx feedback. Pages work without this file.
(function () {
  document.addEventListener("keydown", function (e) {
    const t = e.target;
    const typing = t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;
    if (e.key === "/" && !typing) {
      const search = document.getElementById("search");
      if (search) { e.preventDefault(); search.focus(); search.select(); }
    }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && t.matches && t.matches("[data-submit-on-ctrl-enter]")) {
      e.preventDefault();
      const primary = t.form && t.form.querySelector("button[type=submit]:not([disabled])");
      if (primary) t.form.requestSubmit(primary);
    }
  });
  // A select that applies itself (no inline handlers: the Content-Security-Policy refuses them).
  document.addEventListener("change", function (e) {
    const t = e.target;
    if (t.matches && t.matches("select[data-submit-on-change]") && t.form) t.form.requestSubmit();
  });
  // Relative times ("5 min ago") from each <time datetime data-relative>; the server renders an
  // absolute time, so pages and cached fragments stay correct without this.
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const steps = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
  function relative(date) {
    const seconds = (date.getTime() - Date.now()) / 1000;
    for (const [unit, size] of steps) {
      if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
    }
    return "just now";
  }
  function renderTimes(root) {
    (root || document).querySelectorAll("time[data-relative]").forEach(function (el) {
      const date = new Date(el.getAttribute("datetime"));
      if (isNaN(date)) return;
      if (!el.title) el.title = date.toLocaleString();
      el.textContent = relative(date);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { renderTimes(); });
  document.addEventListener("htmx:load", function (e) { renderTimes(e.target); });
  document.addEventListener("htmx:oobAfterSwap", function (e) { renderTimes(e.detail.target); });
  setInterval(renderTimes, 30000);
  window.helpdeskRenderTimes = renderTimes;

  // A global progress bar while any htmx request runs.
  let running = 0;
  document.addEventListener("htmx:beforeRequest", function () { running++; document.body.classList.add("busy"); });
  document.addEventListener("htmx:afterRequest", function () {
    running = Math.max(0, running - 1);
    if (!running) document.body.classList.remove("busy");
  });
  // htmx's ws extension reconnects only after an abnormal close; a server that restarts closes
  // with "going away" (1001), so that counts as a restart (1012) here and the page reconnects.
  if (window.htmx) {
    htmx.config.createWebSocket = function (url) {
      const socket = new WebSocket(url);
      let onclose = null;
      Object.defineProperty(socket, "onclose", { get: function () { return onclose; }, set: function (fn) { onclose = fn; } });
      socket.addEventListener("close", function (e) {
        if (!onclose) return;
        onclose(e.code === 1000 || e.code === 1001 ? { code: 1012, reason: e.reason, wasClean: e.wasClean } : e);
      });
      return socket;
    };
  }
  // After a websocket reconnect, re-fetch every live fragment: pushes sent while the socket
  // was down are not replayed.
  const opened = new WeakSet();
  document.addEventListener("htmx:wsOpen", function (e) {
    const socketHost = e.target;
    if (!opened.has(socketHost)) { opened.add(socketHost); return; }
    socketHost.querySelectorAll("[data-refresh]").forEach(function (el) {
      htmx.ajax("GET", el.dataset.refresh, { source: el, target: el, swap: "outerHTML" });
    });
  });
  // A new message is pushed alone, appended to #thread out of band. One the page already shows
  // (a refresh or the sender's own response got there first) is dropped. A push applied while a
  // refresh of the thread was on its way is carried over into the refreshed thread if that was
  // read before the message was written.
  function messageNumber(el) { return parseInt(el.id.slice(4), 10); }
  function threadMessages(thread) { return Array.from(thread.querySelectorAll(":scope > li[id^='msg-']")); }
  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    if (!e.detail.target || e.detail.target.id !== "thread") return;
    const fragment = e.detail.fragment;
    Array.from(fragment.children).forEach(function (el) { if (el.id && document.getElementById(el.id)) el.remove(); });
    if (fragment.children.length) e.detail.target.querySelectorAll(":scope > .thread-empty").forEach(function (el) { el.remove(); });
  });
  let pushedBeforeRefresh = null;
  document.addEventListener("htmx:beforeSwap", function (e) {
    const target = e.detail.target;
    const thread = target && (target.id === "thread" ? target : target.querySelector("#thread"));
    if (thread) pushedBeforeRefresh = threadMessages(thread);
  });
  document.addEventListener("htmx:load", function (e) {
    const thread = e.target.id === "thread" ? e.target : e.target.querySelector && e.target.querySelector("#thread");
    if (!thread || !pushedBeforeRefresh) return;
    const carried = pushedBeforeRefresh;
    pushedBeforeRefresh = null;
    const newest = Math.max(0, ...threadMessages(thread).map(messageNumber));
    carried.forEach(function (el) {
      if (messageNumber(el) > newest && !document.getElementById(el.id)) {
        thread.querySelectorAll(":scope > .thread-empty").forEach(function (empty) { empty.remove(); });
        thread.appendChild(el);
      }
    });
  });
  function toast(text) {
    let box = document.querySelector(".toasts");
    if (!box) { box = document.createElement("div"); box.className = "toasts"; box.setAttribute("role", "status"); document.body.appendChild(box); }
    const item = document.createElement("div");
    item.className = "toast toast-error";
    item.textContent = text;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 6000);
  }
  window.helpdeskToast = toast;
  document.addEventListener("htmx:responseError", function (e) {
    toast("The server could not complete that request (" + e.detail.xhr.status + "). Nothing was changed.");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("The helpdesk could not be reached. Check your connection and try again.");
  });
})();
