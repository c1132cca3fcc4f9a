// The Cobrowse "sample code snippets" that need no iframe, run with the official agent SDK
// against the sandbox over real HTTP and websockets. Prints one JSON line per check and exits
// non-zero if any check fails.
//
//   SANDBOX_URL=... LICENSE_KEY=... AGENT_TOKEN=... ADMIN_TOKEN=... EXPIRED_TOKEN=... \
//     node --experimental-websocket tests/conformance/sdk_snippets.mjs
import CobrowseAPI from "cobrowse-agent-sdk";

const { SANDBOX_URL: api, LICENSE_KEY: license, AGENT_TOKEN, ADMIN_TOKEN, EXPIRED_TOKEN } = process.env;
const results = [];
let failed = 0;

function check(name, ok, detail) {
  results.push({ name, ok: !!ok, detail });
  if (!ok) failed++;
  console.log(JSON.stringify({ name, ok: !!ok, detail }));
}

async function control(method, path, body) {
  const response = await fetch(`${api}/__sandbox__${path}`, {
    method, headers: { "Content-Type": "application/json" }, body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

function waitFor(emitter, event, trigger, match = () => true, timeout = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching '${event}' within ${timeout} ms`)), timeout);
    emitter.on(event, (value) => { if (match(value)) { clearTimeout(timer); resolve(value); } });
    trigger().catch(reject);
  });
}

async function main() {
  const agent = new CobrowseAPI(AGENT_TOKEN, { api });
  const admin = new CobrowseAPI(ADMIN_TOKEN, { api });

  // A customer's device, and a session the agent runs with it.
  const device = await control("POST", "/devices", { license_key: license, custom_data: { user_id: "u1", user_name: "Una" }, online: true });
  await control("POST", "/devices", { license_key: license, custom_data: { user_id: "u2" }, online: true });
  const created = await agent.sessions.create({ custom_data: { user_id: "u1" }, agent: "me" });
  await created.subscribe();
  await agent.devices.get(device.id).then((d) => d.notify({ session: created }));
  await new Promise((resolve) => setTimeout(resolve, 600));
  const joined = await agent.sessions.get(created.id);
  await control("POST", `/sessions/${created.id}/device-action`, { action: "accept" });

  // Snippet: list a customer's devices.
  const devices = await agent.devices.list({ filter_user_id: "u1" });
  check("devices.list filter_user_id", devices.length === 1 && devices[0].id === device.id, devices.map((d) => d.id));

  // Snippet: list a customer's active sessions.
  const sessions = await agent.sessions.list({ filter_user_id: "u1", state: ["active"] });
  check("sessions.list filter_user_id + state", sessions.length === 1 && sessions[0].id === created.id,
    { ids: sessions.map((s) => s.id), joined_state: joined.state });

  // Snippet: live session updates.
  const session = sessions[0];
  await session.subscribe();
  const updated = await waitFor(session, "updated", () =>
    control("POST", `/sessions/${session.id}/device-action`, { action: "heartbeat" }).then(() =>
      fetch(`${api}/api/1/sessions/${session.id}`, { method: "PUT", headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ custom_data: { note: "pushed" }, id: session.id }) })));
  check("session.subscribe receives updated", updated.custom_data.note === "pushed", updated.custom_data);

  // Snippet: live device presence.
  const [watched] = await agent.devices.list({ filter_user_id: "u1" });
  await watched.subscribe();
  const offline = await waitFor(watched, "updated", () => control("PATCH", `/devices/${watched.id}`, { online: false }), (d) => !d.online);
  check("device.subscribe receives presence offline", offline.online === false);
  const online = await waitFor(watched, "updated", () => control("PATCH", `/devices/${watched.id}`, { online: true }), (d) => d.online);
  check("device.subscribe receives presence online", online.online === true);

  // Snippet: agent-side custom data.
  await session.update({ custom_data: { ticket_id: "T-1" } });
  check("session.update custom_data merges", session.custom_data.ticket_id === "T-1" && session.custom_data.user_id === "u1", session.custom_data);

  // Snippet: end the session.
  const endedEvent = new Promise((resolve) => session.on("ended", resolve));
  await session.end();
  check("session.end", session.state === "ended" && session.isEnded(), session.state);
  await Promise.race([endedEvent, new Promise((_, reject) => setTimeout(() => reject(new Error("no ended event")), 3000))]);
  check("session emits ended", true);

  // Snippet: count active sessions across all agents (admin), paging past 1000.
  await control("POST", "/sessions/bulk", { license_key: license, count: 2500 });
  let count = 0, pages = 0, before;
  for (;;) {
    const page = await admin.sessions.list({ state: ["active"], agent: "all", limit: 1000, activated_before: before });
    pages++; count += page.length;
    if (page.length < 1000) break;
    before = page[page.length - 1].activated;
  }
  check("count 2500 active sessions with paging", count === 2500 && pages === 3, { count, pages });

  // Expired tokens surface as TokenExpiredError (with the SDK's swapped fields).
  try {
    await new CobrowseAPI(EXPIRED_TOKEN, { api }).sessions.list();
    check("expired token rejected", false);
  } catch (err) {
    check("expired token -> TokenExpiredError", err.name === "TokenExpiredError" && err.message === "401" && err.status === "jwt expired",
      { name: err.name, message: err.message, status: err.status });
  }

  // A non-admin may not list everyone's sessions.
  try {
    await agent.sessions.list({ agent: "all" });
    check("agent=all refused for agents", false);
  } catch (err) {
    check("agent=all refused for agents", err.name === "APIError" && err.status === 403, { name: err.name, status: err.status });
  }

  const policy = await agent.policies.current();
  check("policies.current", policy.hasPermission("sessions:read") === true);
  agent.disconnect();
  admin.disconnect();
}

main().then(() => process.exit(failed ? 1 : 0), (err) => {
  console.log(JSON.stringify({ name: "script", ok: false, detail: String(err && err.stack || err) }));
  process.exit(1);
});
