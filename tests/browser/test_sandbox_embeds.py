"""The sandbox's embeds driven by the official agent SDK from a host page on another origin
(CONTRACT 11 items 50-64), with the simulated customer device page in a second tab."""

import http.server
import threading
import time
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]
ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "node_modules" / "cobrowse-agent-sdk" / "dist" / "umd-browser" / "cobrowse-agent-sdk.js"

HOST_PAGE = b"""<!doctype html><html><body>
<div id="box"></div>
<script src="/sdk.js"></script>
<script>
window.events = [];
window.start = async function (url, api, token) {
  const frame = document.createElement("iframe");
  frame.src = url; frame.style.width = "900px"; frame.style.height = "600px";
  document.getElementById("box").appendChild(frame);
  window.cobrowse = new CobrowseAPI(token || undefined, { api: api });
  window.ctx = await cobrowse.attachContext(frame);
  ctx.on("session.loaded", s => events.push(["loaded", s.id, s.state]));
  ctx.on("session.updated", s => events.push(["updated", s.id, s.state, s.full_device, s.remote_control]));
  ctx.on("error", e => events.push(["error", e.id, e.message, e.status]));
  window.frame = frame;
};
window.timed = (p) => Promise.race([p, new Promise((_, r) => setTimeout(() => r(new Error("timeout")), 10000))]);
</script></body></html>"""


class HostHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body, kind = (SDK.read_bytes(), "text/javascript") if self.path == "/sdk.js" else (HOST_PAGE, "text/html")
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def host_origin():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HostHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_port}"  # another origin than the sandbox's 127.0.0.1
    server.shutdown()


@pytest.fixture
def host(page, host_origin):
    page.goto(f"{host_origin}/")
    return page


def start(host, url, api, token=None):
    host.evaluate("([u, a, t]) => start(u, a, t)", [url, api, token])


def events(host, kind):
    return [e for e in host.evaluate("events") if e[0] == kind]


def wait_event(host, kind, timeout=10000):
    host.wait_for_function(f"() => events.some(e => e[0] === '{kind}')", timeout=timeout)
    return events(host, kind)


def wait_state(sb, session_id, state, timeout=15):
    deadline = time.monotonic() + timeout
    while sb.session_raw(session_id)["state"] != state:
        assert time.monotonic() < deadline, f"session never became {state}"
        time.sleep(0.05)


def active_session(sb, token, user_id="u1"):
    device = sb.create_device({"user_id": user_id})
    s = sb.create_code(device["id"])
    sb.api("PUT", f"/api/1/sessions/{s['id']}", token, json={"agent": "me", "id": s["id"]})
    wait_state(sb, s["id"], "authorizing")  # the online device joins once an agent claims it
    sb.device_action(s["id"], "accept")
    return s["id"], device


def embed(sb, path, token, **params):
    query = "&".join(f"{k}={v}" for k, v in {"token": token, **params}.items() if v is not None)
    return f"{sb.url}{path}?{query}"


def test_c50_c51_session_embed_says_init_and_loads_the_session(sandbox, host, host_origin):
    token = sandbox.jwt()
    sid, _ = active_session(sandbox, token)
    start(host, embed(sandbox, f"/session/{sid}", token, end_action="none"), sandbox.url, token)
    loaded = wait_event(host, "loaded")
    assert loaded == [["loaded", sid, "active"]]
    assert events(host, "updated")[0][1] == sid
    log = host.frames[1].evaluate("embedLog")
    assert [e["event"] for e in log][:2] == ["trust", "token"]
    assert log[0]["origin"] == host_origin


def test_c52_untrusted_origin_gets_nothing(sandbox, host):
    token = sandbox.jwt()
    sid, _ = active_session(sandbox, token)
    wrong_api = sandbox.url.replace("127.0.0.1", "localhost")  # the iframe stays on 127.0.0.1
    start(host, embed(sandbox, f"/session/{sid}", token), wrong_api, token)
    time.sleep(1.5)
    assert events(host, "loaded") == []
    assert host.frames[1].evaluate("embedLog.filter(e => e.event === 'token').length") == 0


def test_c53_c56_tools_and_requests_resolve_and_reach_the_device(sandbox, host, context):
    token = sandbox.jwt()
    device_page = context.new_page()
    device_page.goto(f"{sandbox.url}/demo/shop?user_id=u-dev&name=Dana&license_key={sandbox.license_key}")
    device_page.wait_for_selector("text=Online")
    device_id = device_page.evaluate("sandboxDevice.id")
    s = sandbox.create_code(device_id)
    sandbox.api("PUT", f"/api/1/sessions/{s['id']}", token, json={"agent": "me", "id": s["id"]})
    device_page.click("[data-testid=consent-session-allow]")
    start(host, embed(sandbox, f"/session/{s['id']}", token, end_action="none"), sandbox.url, token)
    wait_event(host, "loaded")
    assert host.evaluate("timed(ctx.setTool('laser'))") is True
    device_page.wait_for_selector("text=Agent tool: laser")
    assert host.evaluate("timed(ctx.setTool('drawing'))") is True
    assert host.evaluate("timed(ctx.clearAnnotations())") is True
    assert host.evaluate("timed(ctx.androidBack())") is True
    full = host.evaluate("timed(ctx.setFullDevice('requested')).then(s => s.full_device)")
    assert full == "requested"
    device_page.wait_for_selector("[data-testid=consent-full-device]")
    remote = host.evaluate("timed(ctx.setRemoteControl('requested')).then(s => s.remote_control)")
    assert remote == "requested"
    device_page.wait_for_selector("[data-testid=consent-remote-control]")
    device_page.click("[data-testid=consent-remote-control-allow]")
    host.wait_for_function("() => events.some(e => e[0] === 'updated' && e[4] === 'on')")
    rejected = host.evaluate("timed(ctx.setRemoteControl('on')).then(() => 'resolved', e => e.message)")
    assert "requested or off" in rejected

    # The laser pointer drawn in the viewer reaches the customer's page.
    assert host.evaluate("timed(ctx.setTool('laser'))") is True
    viewer = host.frame_locator("iframe")
    viewer.locator("#waiting").wait_for(state="hidden")  # the first mirror frame arrived
    box = viewer.locator("#overlay").bounding_box()
    host.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    host.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=4)
    device_page.wait_for_selector("[data-testid=laser]:not([hidden])")

    # c54: ending from the host ends it on both sides; end_action=none keeps the page.
    state = host.evaluate("timed(ctx.endSession()).then(s => s.state)")
    assert state == "ended"
    assert sandbox.session_raw(s["id"])["ended_reason"] == "agent_ended"
    host.frame_locator("iframe").locator("[data-testid=session-ended]").wait_for()
    device_page.wait_for_selector("[data-testid=session-status] >> text=Session ended")


def test_redacted_fields_never_reach_the_agent(sandbox, host, context):
    token = sandbox.jwt()
    device_page = context.new_page()
    device_page.goto(f"{sandbox.url}/demo/shop?user_id=u-red&name=Rae&license_key={sandbox.license_key}")
    device_page.wait_for_selector("text=Online")
    device_page.click("[data-testid=get-code]")
    device_page.wait_for_function("() => /^\\d{6}$/.test(document.querySelector('[data-testid=code]').textContent)")
    code = device_page.inner_text("[data-testid=code]")
    device_page.fill("#card-number", "4111 1111 1111 1111")
    device_page.fill("#email", "rae@example.com")

    # The agent joins with the 6-digit code in the /code embed.
    start(host, embed(sandbox, "/code", token, end_action="none"), sandbox.url, token)
    code_frame = host.frame_locator("iframe")
    code_frame.locator("#code-input").fill(code)
    code_frame.locator("#code-form button").click()
    device_page.click("[data-testid=consent-session-allow]")
    wait_event(host, "loaded")
    host.wait_for_function("() => events.some(e => e[0] === 'updated' && e[2] === 'active')")
    host.frames[1].wait_for_function("() => window.lastFrame && window.lastFrame.includes('rae@example.com')")
    seen = host.frames[1].evaluate("window.lastFrame")
    sent = device_page.evaluate("window.sentFrames.join('')")
    assert "4111" not in seen and "4111" not in sent
    assert "VISA ending 4242" not in seen
    assert "rae@example.com" in seen


def test_c55_end_action_code_navigates_and_says_init_again(sandbox, host):
    token = sandbox.jwt()
    sid, _ = active_session(sandbox, token)
    start(host, embed(sandbox, f"/session/{sid}", token, end_action="code"), sandbox.url, token)
    wait_event(host, "loaded")
    host.evaluate("timed(ctx.endSession())")
    host.wait_for_function("() => document.querySelector('iframe').contentWindow.length >= 0", timeout=3000)
    host.frame_locator("iframe").locator("[data-testid=code-entry]:not([hidden])").wait_for(timeout=5000)
    assert "/code" in host.frames[1].url
    trusts = host.frames[1].evaluate("embedLog.filter(e => e.event === 'trust').length")
    assert trusts >= 1  # the host re-sent trust to the new page


def test_c57_create_session_on_code(sandbox, host):
    token = sandbox.jwt()
    start(host, embed(sandbox, "/code", token, end_action="none"), sandbox.url, token)
    host.frame_locator("iframe").locator("[data-testid=code-entry]:not([hidden])").wait_for()
    code = host.evaluate("timed(ctx.createSession()).then(s => s.code)")
    assert len(code) == 6 and code.isdigit()
    assert wait_event(host, "loaded")[0][2] == "pending"


def test_c58_c59_users_and_unknown_rpc(sandbox, host):
    token = sandbox.jwt(sub="ursula@example.com")
    sid, _ = active_session(sandbox, token)
    start(host, embed(sandbox, f"/session/{sid}", token), sandbox.url, token)
    wait_event(host, "loaded")
    me = sandbox.api("GET", "/api/1/users/me", token).json()
    assert host.evaluate("timed(ctx.users.current()).then(u => u.id)") == me["id"]
    answered = host.evaluate("""() => new Promise(resolve => {
        addEventListener('message', e => { if (e.data && e.data.event === 'rpc:response' && e.data.data.id === 'x1') resolve(true); });
        frame.contentWindow.postMessage({cobrowseio: true, event: 'rpc:request', trustedOnly: true,
                                         data: {id: 'x1', method: 'bogus:method', data: {}}}, '*');
        setTimeout(() => resolve(false), 1000);
    })""")
    assert answered is False


def test_c60_expired_token_shows_an_error_and_tells_the_host(sandbox, host):
    expired = sandbox.jwt(lifetime=-30)
    start(host, embed(sandbox, "/session/ses_whatever", expired), sandbox.url, None)
    err = wait_event(host, "error")[0]
    assert err[1:] == ["unauthorized", "jwt expired", None]
    host.frame_locator("iframe").locator("[data-testid=error]").wait_for()


def test_c61_token_from_the_bridge(sandbox, host):
    token = sandbox.jwt()
    sid, _ = active_session(sandbox, token)
    start(host, f"{sandbox.url}/session/{sid}?token_source=postMessage&end_action=none", sandbox.url, token)
    assert wait_event(host, "loaded")[0][1] == sid


def test_c62_hide_parameters(sandbox, page):
    token = sandbox.jwt()
    sid, _ = active_session(sandbox, token)
    page.goto(embed(sandbox, f"/session/{sid}", token, agent_tools="none", device_controls="none", navigation="none",
                    popout="none", messages="none", session_details="none"))
    page.wait_for_selector("[data-testid=session]:not([hidden])")
    for testid in ("agent-tools", "device-controls", "navigation", "popout", "messages", "session-details"):
        assert page.locator(f"[data-testid={testid}]").is_hidden(), testid
    page.goto(embed(sandbox, f"/session/{sid}", token))
    page.wait_for_selector("[data-testid=session]:not([hidden])")
    for testid in ("agent-tools", "device-controls", "navigation", "popout", "messages", "session-details"):
        assert page.locator(f"[data-testid={testid}]").is_visible(), testid


def test_c63_connect_with_one_several_or_no_devices(sandbox, page):
    token = sandbox.jwt()
    page.goto(embed(sandbox, "/connect", token, filter_user_id="nobody"))
    page.wait_for_selector("[data-testid=no-devices]:not([hidden])")
    one = sandbox.create_device({"user_id": "solo"})
    page.goto(embed(sandbox, "/connect", token, filter_user_id="solo"))
    page.wait_for_selector("[data-testid=session]:not([hidden])")
    [session] = sandbox.api("GET", "/api/1/sessions?filter_user_id=solo", token).json()
    deadline = time.monotonic() + 5
    while sandbox.session_raw(session["id"])["state"] == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.session_raw(session["id"])["device_id"] == one["id"]
    sandbox.create_device({"user_id": "pair"})
    sandbox.create_device({"user_id": "pair"})
    page.goto(embed(sandbox, "/connect", token, filter_user_id="pair"))
    page.wait_for_selector("#device-list li >> nth=1")
    assert page.locator("#device-list button").count() == 2


def test_c64_embeds_may_be_framed(sandbox):
    response = requests.get(f"{sandbox.url}/session/ses_x?token=t", timeout=5)
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
