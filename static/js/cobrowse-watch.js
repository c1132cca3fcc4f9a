// Watch mode for supervisors: the embed opens the session with end_action=none and no tools; the
// official agent SDK follows its state so the page says when the customer or the agent ends it.
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

  function show(session) {
    badge.textContent = session.state;
    badge.className = "badge session-" + session.state;
  }
  new window.CobrowseAPI(cfg.token, { api: cfg.api }).attachContext(frame).then(function (ctx) {
    ctx.on("session.loaded", show);
    ctx.on("session.updated", show);
  });
})();
