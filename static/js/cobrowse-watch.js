// Watch mode for supervisors: the embed opens the session with end_action=none and no tools; the
// official agent SDK follows its state so the page says when the customer or the agent ends it.
// The token reads this one session only and lives a few minutes: the page asks for a new one
// before it expires and hands it to the embed.
(function () {
  "use strict";
  const box = document.getElementById("watch");
  if (!box || typeof window.CobrowseAPI !== "function") return;
  const cfg = JSON.parse(box.dataset.config);
  const badge = document.getElementById("watch-state");
  const frame = document.createElement("iframe");
  frame.src = cfg.embedUrl;
  frame.title = "Co-browse session (watching)";
  document.getElementById("watch-frame").appendChild(frame);
  const cobrowse = new window.CobrowseAPI(cfg.token, { api: cfg.api });

  function show(session) {
    badge.textContent = session.state;
    badge.className = "badge session-" + session.state;
  }
  cobrowse.attachContext(frame).then(function (ctx) {
    ctx.on("session.loaded", show);
    ctx.on("session.updated", show);
  });

  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }
  async function refresh() {
    const response = await fetch(cfg.tokenUrl, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() } });
    if (!response.ok) return;  // no longer watching (left in another tab): the embed keeps what it shows
    const data = await response.json();
    cobrowse.token = data.token;
    // The bridge's own token message (CONTRACT 9.3), to the embed's origin only.
    frame.contentWindow.postMessage({ cobrowseio: true, event: "token", data: data.token, trustedOnly: false }, new URL(cfg.api).origin);
    schedule(data.expires);
  }
  function schedule(expires) {
    const ms = Math.max(5000, (expires - Date.now() / 1000 - 60) * 1000);
    setTimeout(function () { refresh().catch(function () { setTimeout(function () { schedule(0); }, 10000); }); }, ms);
  }
  schedule(cfg.tokenExpires);
})();
