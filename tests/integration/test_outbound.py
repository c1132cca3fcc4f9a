"""The outbound HTTP layer: every request goes only to global unicast addresses (or to networks the
operator allows), checked when a URL is saved and again when the connection is made; the Cobrowse
API URL an admin may choose is one the operator allows."""

import logging
import socket

import pytest

from helpdesk import outbound
from helpdesk import services as helpdesk
from helpdesk.webhooks.models import Delivery, OutgoingEndpoint
from integrations.cobrowse import account, services
from integrations.cobrowse.client import CobrowseClient, CobrowseError, Unavailable, UrlRefused
from integrations.cobrowse.models import AccountSettings
from tests import factories as f
from tests.integration.test_cobrowse_flow import run_tasks
from tests.webhooks.helpers import outgoing_endpoint
from tests.webhooks.receiver import Receiver

PUBLIC = "93.184.215.14"  # a global unicast address; no test ever connects to it


@pytest.fixture
def closed(settings):
    """Nothing is exempt from the policy (the test environment allows loopback for its servers)."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def token_source(refresh=False):
    return "secret-agent-token"


# --- the address policy ------------------------------------------------------------------------

@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fd00::5", "private"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:10.0.0.5", "private"),
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
])
def test_the_policy_refuses_addresses_that_are_not_global_unicast(closed, address, kind):
    assert outbound.refusal(address) == kind


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_the_policy_lets_global_unicast_addresses_through(closed, address):
    assert outbound.refusal(address) is None


def test_the_allowed_networks_open_exactly_what_they_list(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1", "10.1.0.0/16"]
    assert outbound.refusal("127.0.0.1") is None
    assert outbound.refusal("::ffff:127.0.0.1") is None
    assert outbound.refusal("10.1.200.3") is None
    assert outbound.refusal("127.0.0.2") == "loopback"
    assert outbound.refusal("10.2.0.1") == "private"
    assert outbound.refusal("::1") == "loopback"


def test_a_name_is_refused_if_any_address_it_resolves_to_is_refused(closed, fake_dns):
    fake_dns["mixed.example"] = [PUBLIC, "10.0.0.5"]
    fake_dns["public.example"] = [PUBLIC]
    with pytest.raises(outbound.AddressRefused) as refused:
        outbound.check_url("https://mixed.example/hook")
    assert (refused.value.host, refused.value.address, refused.value.kind) == ("mixed.example", "10.0.0.5", "private")
    assert refused.value.short == "refused by the address policy: mixed.example resolves to 10.0.0.5 (private)"
    assert outbound.check_url("https://public.example/hook") == [PUBLIC]


def test_urls_that_are_not_http_or_do_not_resolve_are_refused(closed, fake_dns):
    fake_dns["public.example"] = [PUBLIC]
    with pytest.raises(outbound.Refused):
        outbound.check_url("ftp://public.example/")
    with pytest.raises(outbound.Unresolvable):
        outbound.check_url("https://nowhere.invalid/")
    with pytest.raises(outbound.Refused, match="https"):
        outbound.check_url("http://public.example/", https_required=True)
    assert outbound.check_url("http://public.example/") == [PUBLIC]


def test_plain_http_to_an_allowed_network_is_accepted_where_https_is_required(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert outbound.check_url("http://127.0.0.1:8080/", https_required=True) == ["127.0.0.1"]


# --- at connect time ---------------------------------------------------------------------------

def test_the_connection_refuses_a_loopback_receiver_that_is_not_allowed(closed, receiver):
    transport = outbound.Transport("test")
    with pytest.raises(outbound.AddressRefused) as refused:
        transport.request("POST", receiver.url, data=b"{}", timeout=2)
    assert refused.value.kind == "loopback"
    assert receiver.received == []


def test_the_connection_goes_to_the_checked_address_and_keeps_the_name(settings, fake_dns, receiver):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1"]
    fake_dns["receiver.example"] = ["127.0.0.1"]
    response = outbound.Transport("test").request("POST", f"http://receiver.example:{receiver.port}/x", data=b"{}",
                                                  timeout=2)
    assert response.status_code == 200
    (headers, body), = receiver.received
    assert headers["Host"] == f"receiver.example:{receiver.port}"


def test_plain_http_is_refused_at_connect_time_outside_the_allowed_networks(closed, fake_dns):
    fake_dns["plain.example"] = [PUBLIC]
    transport = outbound.Transport("test", https_required=True)
    with pytest.raises(outbound.Refused, match="https"):
        transport.request("GET", "http://plain.example/", timeout=2)  # refused before it connects


def test_redirects_are_not_followed(settings, receiver):
    receiver.status = 302
    receiver.headers = {"Location": "/elsewhere"}
    response = outbound.Transport("test").request("GET", receiver.url, timeout=2)
    assert response.status_code == 302 and len(receiver.received) == 1


def test_an_answer_that_does_not_come_is_a_timeout_logged_with_the_callers_ids(caplog):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/secret-path?token=t"
        with caplog.at_level(logging.WARNING, logger="helpdesk.outbound"), pytest.raises(outbound.Timeout):
            outbound.Transport("test").request("GET", url, timeout=(2, 0.3), ids={"delivery": "d-1"},
                                               headers={"Authorization": "Bearer secret-agent-token"})
    assert "delivery=d-1" in caplog.text and "Timeout" in caplog.text
    assert "secret" not in caplog.text and "token" not in caplog.text


def test_a_port_nobody_listens_on_is_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(outbound.Unreachable):
        outbound.Transport("test").request("GET", f"http://127.0.0.1:{port}/", timeout=2)


# --- webhooks --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_webhook_form_says_which_address_a_url_resolves_to(as_ada, closed, fake_dns, settings):
    fake_dns["crm.internal.example"] = ["10.0.0.5"]
    fake_dns["crm.example"] = [PUBLIC]
    form = {"kind": "outgoing", "out-name": "CRM", "out-events": ["ticket.closed"]}

    private = as_ada.post("/settings/webhooks/", {**form, "out-url": "https://crm.internal.example/hook"})
    assert private.status_code == 422
    assert "crm.internal.example resolves to 10.0.0.5, a private address" in private.content.decode()
    metadata = as_ada.post("/settings/webhooks/", {**form, "out-url": "https://169.254.169.254/latest/"})
    assert "resolves to 169.254.169.254, a link-local address" in metadata.content.decode()
    loopback = as_ada.post("/settings/webhooks/", {**form, "out-url": "https://[::1]:8000/"})
    assert "a loopback address" in loopback.content.decode()
    plain = as_ada.post("/settings/webhooks/", {**form, "out-url": "http://crm.example/hook"})
    assert plain.status_code == 422 and "must be reached over https" in plain.content.decode()
    assert not OutgoingEndpoint.objects.exists()

    assert as_ada.post("/settings/webhooks/", {**form, "out-url": "https://crm.example/hook"}).status_code == 302
    settings.DEBUG = True
    assert as_ada.post("/settings/webhooks/", {**form, "out-url": "http://crm.example/h2"}).status_code == 302
    assert OutgoingEndpoint.objects.count() == 2


@pytest.fixture
def ticket(settings):
    settings.WEBHOOK_RETRY_DELAYS = [1, 1, 1]
    team = f.team("Support")
    return f.agent(team, name="Alice Agent"), f.ticket(team, f.customer(user_id="cust-9"), subject="Refund")


@pytest.mark.django_db(transaction=True)
def test_a_loopback_receiver_gets_nothing_unless_loopback_is_allowed(settings, receiver, ticket, caplog):
    agent, ticket = ticket
    endpoint, _ = outgoing_endpoint(receiver.url)  # saved while loopback was allowed
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    with caplog.at_level(logging.WARNING, logger="helpdesk.outbound"):
        helpdesk.close_ticket(ticket, agent)
        run_tasks()
        run_tasks(include_delayed=True)
    assert receiver.received == []
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("failed", 1, None)  # no retries
    assert delivery.last_error == "refused by the address policy: 127.0.0.1 resolves to 127.0.0.1 (loopback)"
    assert delivery.response_excerpt == ""
    line, = [r.getMessage() for r in caplog.records if r.name == "helpdesk.outbound"]
    assert f"delivery={delivery.pk}" in line and f"endpoint={endpoint.pk}" in line and "loopback" in line
    assert "/hooks/helpdesk" not in line and "X-Helpdesk" not in line  # no path, no headers

    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    helpdesk.reopen(ticket, agent)
    helpdesk.close_ticket(ticket, agent)
    run_tasks()
    assert len(receiver.received) == 1
    assert Delivery.objects.order_by("-created_at").first().state == "delivered"


@pytest.mark.django_db(transaction=True)
def test_a_name_re_pointed_to_loopback_after_it_was_saved_is_refused_when_sending(
        as_ada, closed, fake_dns, receiver, ticket, settings):
    agent, ticket = ticket
    settings.DEBUG = True  # plain http, so that the receiver could read the request if it arrived
    fake_dns["hooks.example"] = [PUBLIC]
    saved = as_ada.post("/settings/webhooks/", {"kind": "outgoing", "out-name": "CRM", "out-events": ["ticket.closed"],
                                                      "out-url": f"http://hooks.example:{receiver.port}/hooks"})
    assert saved.status_code == 302
    fake_dns["hooks.example"] = ["127.0.0.1"]  # DNS rebinding: the name now points at this machine
    helpdesk.close_ticket(ticket, agent)
    run_tasks()
    assert receiver.received == []
    delivery = Delivery.objects.get()
    assert delivery.state == "failed"
    assert delivery.last_error == "refused by the address policy: hooks.example resolves to 127.0.0.1 (loopback)"


@pytest.mark.django_db(transaction=True)
def test_the_response_excerpt_is_at_most_200_characters(receiver, ticket):
    agent, ticket = ticket
    receiver.body = b"x" * 5000
    outgoing_endpoint(receiver.url)
    helpdesk.close_ticket(ticket, agent)
    run_tasks()
    delivery = Delivery.objects.get()
    assert delivery.state == "delivered" and delivery.response_excerpt == "x" * 200


# --- Cobrowse -------------------------------------------------------------------------------

def test_the_cobrowse_client_does_not_call_a_refused_address(closed, receiver, caplog):
    client = CobrowseClient(token_source, api=f"http://127.0.0.1:{receiver.port}")
    with caplog.at_level(logging.WARNING, logger="helpdesk.outbound"), pytest.raises(UrlRefused) as refused:
        client.notify_device("dev_1", "ses_1")
    assert "127.0.0.1 resolves to 127.0.0.1, a loopback address" in refused.value.message
    assert receiver.received == []
    assert "call=POST /api/1/devices/dev_1/notifications" in caplog.text
    assert "secret-agent-token" not in caplog.text


def test_the_cobrowse_client_refuses_a_name_that_resolves_to_a_private_address(closed, fake_dns):
    fake_dns["api.cobrowse.example"] = ["10.0.0.5"]
    with pytest.raises(UrlRefused, match="private"):
        CobrowseClient(token_source, api="https://api.cobrowse.example").me()


def test_the_cobrowse_client_does_not_follow_redirects(receiver):
    receiver.status = 302
    receiver.headers = {"Location": "/api/1/users/other"}
    with pytest.raises(CobrowseError, match="redirects are not followed"):
        CobrowseClient(token_source, api=f"http://127.0.0.1:{receiver.port}").me()
    assert len(receiver.received) == 1


@pytest.mark.django_db
def test_the_account_form_accepts_only_an_allowed_https_api(as_ada, settings, fake_dns):
    settings.COBROWSE_API_ALLOWED = ["https://api.cobrowse.example", "https://internal.cobrowse.example",
                                     "http://plain.cobrowse.example"]
    fake_dns["api.cobrowse.example"] = [PUBLIC]
    fake_dns["internal.cobrowse.example"] = ["10.0.0.5"]
    fake_dns["plain.cobrowse.example"] = [PUBLIC]
    save = {"action": "save", "license_key": "lic-1"}

    page = as_ada.get("/settings/cobrowse/").content.decode()
    assert "Allowed: https://api.cobrowse.example, https://internal.cobrowse.example" in page

    outside = as_ada.post("/settings/cobrowse/", {**save, "api": "https://evil.example"})
    assert outside.status_code == 422
    assert "it is not one of COBROWSE_API_ALLOWED" in outside.content.decode()
    plain = as_ada.post("/settings/cobrowse/", {**save, "api": "http://plain.cobrowse.example/"})
    assert plain.status_code == 422 and "it is not https" in plain.content.decode()
    private = as_ada.post("/settings/cobrowse/", {**save, "api": "https://internal.cobrowse.example"})
    assert private.status_code == 422
    assert "internal.cobrowse.example resolves to 10.0.0.5, a private address" in private.content.decode()
    assert not AccountSettings.objects.exists()

    ok = as_ada.post("/settings/cobrowse/", {**save, "api": "https://api.cobrowse.example/"})
    assert ok.status_code == 302
    assert AccountSettings.objects.get().api == "https://api.cobrowse.example"
    assert account.api() == "https://api.cobrowse.example"


@pytest.mark.django_db
def test_a_stored_override_that_is_not_allowed_never_gets_a_token(as_ada, receiver, settings, caplog):
    # Saved before the allow-list existed: an address on this machine the operator never allowed.
    AccountSettings.objects.create(pk=1, api=f"http://127.0.0.1:{receiver.port}", license_key="test-license")
    account.changed()
    settings.COBROWSE_API = "http://127.0.0.1:9"  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="integrations.cobrowse.account"):
        assert account.api() == "http://127.0.0.1:9"
    assert "not one of COBROWSE_API_ALLOWED" in caplog.text

    checked = as_ada.post("/settings/cobrowse/", {"action": "check"}, follow=True)
    assert "Cobrowse did not accept the helpdesk" in checked.content.decode()
    with pytest.raises(Unavailable):
        services.check_connection()
    assert receiver.received == []

    settings.COBROWSE_API_ALLOWED = [settings.COBROWSE_API, f"http://127.0.0.1:{receiver.port}"]
    settings.DEBUG = True  # now allowed (plain http only with DEBUG on): the override is used again
    assert account.api() == f"http://127.0.0.1:{receiver.port}"
