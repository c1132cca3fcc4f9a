"""Who reaches what: every route of the helpdesk (walked from the URL resolver and the websocket
routing) for every kind of visitor, with the expected outcome in one table.

A route that the resolver knows and the table does not makes test_every_route_is_in_the_table fail:
a new route must come with its row. Objects are a ticket of team A, its customer, a chat of team A,
a co-browse session linked to the ticket, a webhook endpoint and a delivery (the `world` fixture).
The Cobrowse service is unreachable here (tests/fixtures/cobrowse.py), so pages that must ask it
answer with what they show when it is down (503 for watching a session).
"""

import json
import re

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from helpdesk.asgi import application
from helpdesk.chat import routing as chat_routing
from helpdesk.chat import services as chat_services
from helpdesk.models import Agent
from helpdesk.routing import websocket_urlpatterns
from helpdesk.webhooks.models import Delivery
from integrations.cobrowse.models import SessionLink
from tests import factories as f
from tests.chat.helpers import site
from tests.webhooks.helpers import call, incoming_endpoint, outgoing_endpoint

SUBJECTS = ("anonymous", "own_team", "other_team", "supervisor", "admin")
LOGIN = "login"  # anonymous: redirected to the sign-in page
OPEN, REFUSED = "open", 4403  # websocket outcomes: accepted, or closed with this code
SESSION_ID = "ses_matrix0123456"

# route (its name; the path for an unnamed one), method:
#                                                   anonymous  own team  other team  supervisor  admin
HTTP = {
    ("/", "GET"):                                   (302,      302,      302,        302,        302),
    ("login", "GET"):                               (200,      302,      302,        302,        302),
    ("login", "POST"):                              (200,      302,      302,        302,        302),
    ("logout", "GET"):                              (405,      405,      405,        405,        405),
    ("logout", "POST"):                             (LOGIN,    LOGIN,    LOGIN,      LOGIN,      LOGIN),  # signed out
    ("ticket_list", "GET"):                         (LOGIN,    200,      200,        200,        200),
    ("ticket_detail", "GET"):                       (LOGIN,    200,      404,        200,        200),
    ("ticket_reply", "GET"):                        (405,      405,      405,        405,        405),
    ("ticket_reply", "POST"):                       (LOGIN,    302,      404,        302,        302),
    ("ticket_status", "GET"):                       (405,      405,      405,        405,        405),
    ("ticket_status", "POST"):                      (LOGIN,    302,      404,        302,        302),
    ("ticket_assign", "GET"):                       (405,      405,      405,        405,        405),
    ("ticket_assign", "POST"):                      (LOGIN,    302,      404,        302,        302),
    ("ticket_fragment", "GET"):                     (LOGIN,    200,      404,        200,        200),
    ("customer_detail", "GET"):                     (LOGIN,    200,      404,        200,        200),
    ("cobrowse_token", "GET"):                      (LOGIN,    200,      200,        200,        200),
    ("cobrowse_panel", "GET"):                      (LOGIN,    200,      404,        200,        200),
    ("cobrowse_bridge", "GET"):                     (405,      405,      405,        405,        405),
    ("cobrowse_bridge", "POST"):                    (LOGIN,    200,      404,        200,        200),
    ("cobrowse_confirm", "GET"):                    (405,      405,      405,        405,        405),
    ("cobrowse_confirm", "POST"):                   (LOGIN,    409,      404,        409,        409),  # Cobrowse down
    ("supervisor_sessions", "GET"):                 (LOGIN,    403,      403,        200,        200),
    ("supervisor_insights", "GET"):                 (LOGIN,    403,      403,        200,        200),
    ("supervisor_watch", "GET"):                    (LOGIN,    403,      403,        503,        503),
    ("supervisor_watch", "POST"):                   (LOGIN,    403,      403,        302,        302),
    ("supervisor_watch_token", "GET"):              (405,      405,      405,        405,        405),
    ("supervisor_watch_token", "POST"):             (LOGIN,    403,      403,        403,        403),  # not watching
    ("supervisor_leave", "GET"):                    (405,      405,      405,        405,        405),
    ("supervisor_leave", "POST"):                   (LOGIN,    403,      403,        302,        302),
    ("cobrowse_account", "GET"):                    (LOGIN,    403,      403,        403,        200),
    ("cobrowse_account", "POST"):                   (LOGIN,    403,      403,        403,        302),
    ("cobrowse_policies", "GET"):                   (LOGIN,    403,      403,        403,        200),
    ("cobrowse_policy_edit", "GET"):                (LOGIN,    403,      403,        403,        200),
    ("cobrowse_policy_edit", "POST"):               (LOGIN,    403,      403,        403,        302),
    ("chat_queue", "GET"):                          (LOGIN,    200,      200,        200,        200),
    ("chat_take", "GET"):                           (405,      405,      405,        405,        405),
    ("chat_take", "POST"):                          (LOGIN,    302,      404,        302,        302),
    ("chat_close", "GET"):                          (405,      405,      405,        405,        405),
    ("chat_close", "POST"):                         (LOGIN,    302,      404,        302,        302),
    ("chat_demo", "GET"):                           (404,      404,      404,        404,        404),
    ("webhook_receive", "GET"):                     (405,      405,      405,        405,        405),
    ("webhook_receive", "POST"):                    (200,      200,      200,        200,        200),
    ("webhooks", "GET"):                            (LOGIN,    403,      403,        403,        200),
    ("webhooks", "POST"):                           (LOGIN,    403,      403,        403,        302),
    ("webhook_action", "GET"):                      (LOGIN,    403,      403,        403,        405),
    ("webhook_action", "POST"):                     (LOGIN,    403,      403,        403,        302),
    ("webhook_deliveries", "GET"):                  (LOGIN,    403,      403,        403,        200),
    ("webhook_replay", "GET"):                      (LOGIN,    403,      403,        403,        405),
    ("webhook_replay", "POST"):                     (LOGIN,    403,      403,        403,        302),
    ("healthz", "GET"):                             (200,      200,      200,        200,        200),
    ("healthz", "POST"):                            (405,      405,      405,        405,        405),
    ("readyz", "GET"):                              (503,      503,      503,        503,        503),  # no task worker here
    ("readyz", "POST"):                             (405,      405,      405,        405,        405),
    ("metrics", "GET"):                             (200,      200,      200,        200,        200),  # from loopback
    ("metrics", "POST"):                            (405,      405,      405,        405,        405),
}

# Websocket routes (helpdesk/routing.py and the widget's in helpdesk/chat/routing.py).
#                                                   anonymous  own team  other team  supervisor  admin
WEBSOCKETS = {
    "ws/tickets/<int:ticket_id>/":                  (REFUSED,  OPEN,     REFUSED,    OPEN,       OPEN),
    "ws/chats/queue/":                              (REFUSED,  OPEN,     OPEN,       OPEN,       OPEN),
    "ws/chat/":                                     (OPEN,     OPEN,     OPEN,       OPEN,       OPEN),  # identity: at hello
}

# Everything under these prefixes is the Django admin (staff only; no helpdesk agent is staff).
PREFIX_RULES = {"admin/": "the Django admin: every non-staff visitor is sent to its own sign-in page"}


# --- the routes, walked from the resolver ---------------------------------------------------------

def _walk(patterns, prefix=""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route, p.name


def http_routes():
    """{table key: route} for every route of helpdesk.urls outside the prefix rules."""
    return {name or f"/{route}": route for route, name in _walk(get_resolver().url_patterns)
            if not route.startswith(tuple(PREFIX_RULES))}


def websocket_routes():
    return {route for route, _ in _walk([*websocket_urlpatterns, *chat_routing.widget_urlpatterns])}


def test_every_route_is_in_the_table():
    routes = http_routes()
    missing = sorted(key for key in routes if (key, "GET") not in HTTP)
    assert not missing, f"Add these routes to the permission matrix: {missing}"
    stale = sorted({key for key, _ in HTTP} - set(routes))
    assert not stale, f"The permission matrix lists routes that no longer exist: {stale}"


def test_every_websocket_route_is_in_the_table():
    assert websocket_routes() == set(WEBSOCKETS)


# --- the objects and visitors ---------------------------------------------------------------------

@pytest.fixture
def world(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # 5 users per case
    team_a, team_b = f.team("Team A"), f.team("Team B")
    customer = f.customer(user_id="matrix-customer")
    ticket = f.ticket(team_a, customer, subject="Matrix ticket")
    chat, _ = chat_services.start_or_resume_chat(site(team_a, key="matrix"), f.customer(user_id="chatter"), "Hi")
    SessionLink.objects.create(ticket=ticket, session_id=SESSION_ID, state=SessionLink.State.ACTIVE)
    endpoint, secret = incoming_endpoint(team=team_a)
    outgoing, _ = outgoing_endpoint("http://127.0.0.1:9/hook")
    delivery = Delivery.objects.create(endpoint=outgoing, event_type="ticket.closed", payload={"ticket_id": ticket.pk},
                                       state=Delivery.State.FAILED)
    return {
        "team_a": team_a, "ticket": ticket, "customer": customer, "chat": chat, "endpoint": endpoint,
        "secret": secret, "delivery": delivery,
        "own_team": f.agent(team_a), "other_team": f.agent(team_b),
        "supervisor": f.agent(team_b, role=Agent.Role.SUPERVISOR), "admin": f.agent(None, role=Agent.Role.ADMIN),
    }


PARAMS = {
    "ticket_id": lambda w: w["ticket"].pk,
    "customer_id": lambda w: w["customer"].pk,
    "chat_id": lambda w: w["chat"].pk,
    "what": lambda w: "thread",
    "session_id": lambda w: SESSION_ID,
    "team_id": lambda w: w["team_a"].pk,
    "slug": lambda w: w["endpoint"].slug,
    "kind": lambda w: "incoming",
    "pk": lambda w: w["endpoint"].pk,
    "action": lambda w: "rotate",
    "delivery_id": lambda w: w["delivery"].pk,
}

# What each POST sends: the form or body its page would send, so the status shows the real effect.
POSTS = {
    "login": lambda c, path, w: c.post(path, {"username": "nobody", "password": "wrong"}),
    "ticket_reply": lambda c, path, w: c.post(path, {"body": "From the matrix"}),
    "ticket_status": lambda c, path, w: c.post(path, {"status": "pending"}),
    "ticket_assign": lambda c, path, w: c.post(path, {"assignee": ""}),
    "cobrowse_bridge": lambda c, path, w: c.post(path, json.dumps({"event": "left", "session_id": SESSION_ID}),
                                                 content_type="application/json"),
    "cobrowse_confirm": lambda c, path, w: c.post(path, {"session_id": SESSION_ID}),
    "cobrowse_account": lambda c, path, w: c.post(path, {"action": "generate"}),
    "cobrowse_policy_edit": lambda c, path, w: c.post(path, {"action": "remove"}),
    "webhook_receive": lambda c, path, w: call(c, w["endpoint"], w["secret"], {"ticket_id": w["ticket"].pk}),
    "webhooks": lambda c, path, w: c.post(path, {"kind": "incoming", "in-name": "From the matrix"}),
}


def visitor(world, subject):
    client = Client()
    if subject != "anonymous":
        client.force_login(world[subject].user)
    return client


def path_of(key, world):
    route = http_routes()[key]
    names = re.findall(r"<(?:\w+:)?(\w+)>", route)
    return reverse(key, kwargs={n: PARAMS[n](world) for n in names}) if not key.startswith("/") else "/" + route


# --- the checks -----------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("key, method", list(HTTP))
def test_http_route(key, method, subject, world):
    expected = HTTP[key, method][SUBJECTS.index(subject)]
    client, path = visitor(world, subject), path_of(key, world)
    if method == "GET":
        response = client.get(path)
    else:
        response = POSTS.get(key, lambda c, p, w: c.post(p))(client, path, world)
    where = response.get("Location", "")
    if expected == LOGIN:
        assert response.status_code == 302 and where.startswith("/login/"), (response.status_code, where)
    else:
        assert response.status_code == expected, (response.status_code, where, response.content[:300])
        if expected == 302 and subject != "anonymous":
            assert not where.startswith("/login/"), where


@pytest.mark.django_db
@pytest.mark.parametrize("subject", SUBJECTS)
def test_the_django_admin_is_for_staff_only(subject, world):
    response = visitor(world, subject).get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("route", list(WEBSOCKETS))
async def test_websocket_route(route, subject, world):
    from asgiref.sync import sync_to_async

    expected = WEBSOCKETS[route][SUBJECTS.index(subject)]
    client = await sync_to_async(visitor)(world, subject)
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(PARAMS[m.group(1)](world)), route)
    headers = [(b"origin", b"http://localhost")]
    if "sessionid" in client.cookies:
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    ws = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await ws.connect()
    if expected == OPEN:
        assert connected, code
        await ws.disconnect()
    else:
        assert not connected and code == expected, (connected, code)
