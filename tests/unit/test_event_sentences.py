"""Every event verb reads as a sentence; none falls back to its raw name."""

import re

import pytest

from helpdesk import services
from helpdesk.events import SENTENCES, Verb, describe
from helpdesk.models import Event
from integrations.cobrowse.events import ENDED_BY
from tests import factories as f

pytestmark = pytest.mark.django_db

# Data a verb is recorded with (see the record() calls); a verb not named here is recorded with none.
DATA = {
    Verb.OPENED: {"channel": "chat"},
    Verb.ASSIGNED: {"assignee": "Bob Colleague", "previous": None},
    Verb.STATUS_CHANGED: {"status": "pending"},
    Verb.CLOSED: {"reason": "agent"},
    Verb.CHAT_STARTED: {"chat_id": 1, "site": "shop"},
    Verb.CHAT_CLOSED: {"chat_id": 1, "reason": "customer_gone"},
    Verb.CHAT_SITE_CREATED: {"site": "shop"},
    Verb.CHAT_SITE_SECRET_ROTATED: {"site": "shop"},
    Verb.WEBHOOK_CREATED: {"kind": "outgoing", "name": "CRM"},
    Verb.WEBHOOK_SECRET_ROTATED: {"kind": "outgoing", "name": "CRM"},
    Verb.WEBHOOK_ENABLED: {"name": "CRM"},
    Verb.WEBHOOK_DISABLED: {"name": "CRM"},
    Verb.WEBHOOK_DELETED: {"name": "CRM"},
    Verb.WEBHOOK_REPLAYED: {"name": "CRM", "event_type": "ticket.closed"},
    Verb.SIGNING_KEY_GENERATED: {"key_id": "k2"},
    Verb.SIGNING_KEY_ACTIVATED: {"key_id": "k2"},
    Verb.SIGNING_KEY_DISCARDED: {"key_id": "k1"},
    Verb.POLICY_CHANGED: {"team": "Support"},
    Verb.POLICY_REMOVED: {"team": "Support"},
    Verb.COBROWSE_LINK_CONFIRMED: {"reason": "no_device"},
    Verb.COBROWSE_TAG_FAILED: {"error": "forbidden"},
    Verb.COBROWSE_TOOL: {"tool": "laser"},
    Verb.COBROWSE_END_REQUESTED: {"reason": "ticket_closed"},
    Verb.COBROWSE_END_FAILED: {"attempt": 5, "error": "Cobrowse is unavailable (503)."},
    Verb.COBROWSE_ENDED: {"cause": "agent"},
    Verb.COBROWSE_UPDATED: {"state": "active", "full_device": "on", "remote_control": "off"},
}
RAW = re.compile(r"\b[a-z]+_[a-z_]+\b")  # a verb-like token such as cobrowse_tool


@pytest.fixture
def people():
    team = f.team("Support")
    alice = f.agent(team, name="Alice Martin")
    ticket = f.ticket(team, f.customer(user_id="c-1", name="Maria Lopez"), subject="Checkout")
    return alice, ticket


def event(ticket, actor, verb, **data):
    return Event(ticket=ticket, actor=actor, verb=verb, data=data)


def test_every_verb_has_a_sentence():
    assert set(Verb) == set(SENTENCES), f"verbs without a sentence: {set(Verb) - set(SENTENCES)}"


@pytest.mark.parametrize("verb", list(Verb), ids=lambda v: v.value)
@pytest.mark.parametrize("with_data", [True, False], ids=["data", "no data"])
def test_a_verb_reads_as_a_sentence_with_its_data_and_without_it(people, verb, with_data):
    alice, ticket = people
    text = describe(event(ticket, alice, verb, **(DATA.get(verb, {}) if with_data else {})))
    assert text and text[0].isupper(), text
    assert not RAW.search(text) and text.lower() != verb.value, text  # not the raw name
    assert "None" not in text and "{" not in text and "  " not in text, text


def test_what_an_agent_reads_after_co_browsing(people):
    alice, ticket = people
    expected = {
        (Verb.COBROWSE_TOOL, "tool", "laser"): "Alice Martin used the laser",
        (Verb.COBROWSE_TOOL, "tool", "drawing"): "Alice Martin drew on the customer's screen",
        (Verb.COBROWSE_REMOTE_CONTROL_REQUESTED, None, None): "Alice Martin requested remote control",
        (Verb.COBROWSE_REMOTE_CONTROL_ALLOWED, None, None): "Alice Martin requested remote control; Maria Lopez allowed it",
        (Verb.COBROWSE_FULL_DEVICE_DECLINED, None, None): "Alice Martin requested full device sharing; Maria Lopez declined it",
        (Verb.COBROWSE_ENDED, "cause", "agent"): "Session ended by Alice Martin",
        (Verb.COBROWSE_ENDED, "cause", "customer"): "Session ended by Maria Lopez",
        (Verb.COBROWSE_ENDED, "cause", "ticket_closed"): "Session ended because the ticket was closed",
        (Verb.COBROWSE_ENDED, "cause", "chat_closed"): "Session ended because the chat was closed",
        (Verb.COBROWSE_WATCH_STARTED, None, None): "Alice Martin started watching the co-browse session",
        (Verb.COBROWSE_CONSENT_DECLINED, None, None): "Maria Lopez declined the co-browse session",
    }
    for (verb, key, value), sentence in expected.items():
        actor = None if (verb, value) in {(Verb.COBROWSE_ENDED, "ticket_closed"), (Verb.COBROWSE_ENDED, "chat_closed")} else alice
        assert describe(event(ticket, actor, verb, **({key: value} if key else {}))) == sentence


@pytest.mark.parametrize("cause", sorted(ENDED_BY))
def test_every_end_cause_reads(people, cause):
    alice, ticket = people
    text = describe(event(ticket, alice, Verb.COBROWSE_ENDED, cause=cause))
    assert text.startswith("Session ended") and not RAW.search(text), text


def test_a_verb_from_a_newer_version_still_reads(people):
    alice, ticket = people
    assert describe(event(ticket, alice, "cobrowse_teleported")) == "Alice Martin: cobrowse teleported"


def test_an_event_without_an_actor_or_ticket_reads(people):
    _, ticket = people
    assert describe(event(None, None, Verb.SIGNING_KEY_GENERATED, key_id="k9")) == "The helpdesk generated signing key k9"
    assert describe(event(ticket, None, Verb.OPENED, channel="email")) == "Maria Lopez opened the ticket by email"


def test_a_free_string_is_not_a_verb(people):
    alice, ticket = people
    with pytest.raises(ValueError):
        services.record(ticket, alice, "cobrowse updated")
    assert not Event.objects.filter(ticket=ticket).exclude(verb=Verb.OPENED).exists()
