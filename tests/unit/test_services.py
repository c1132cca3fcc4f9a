import pytest

from helpdesk import services
from helpdesk.models import Agent, Event, Message, Ticket
from tests import factories as f

pytestmark = pytest.mark.django_db


def verbs(ticket):
    return list(Event.objects.filter(ticket=ticket).order_by("id").values_list("verb", flat=True))


def test_opening_a_ticket_stores_the_first_message_and_an_event(support):
    ticket = f.ticket(support, subject="Cannot log in", body="It says wrong password")
    assert ticket.status == Ticket.Status.OPEN
    assert [m.body for m in Message.objects.filter(conversation__ticket=ticket)] == ["It says wrong password"]
    assert verbs(ticket) == ["opened"]


def test_opening_a_ticket_without_subject_is_refused(support):
    with pytest.raises(services.ActionError, match="subject is empty"):
        f.ticket(support, subject="   ")
    assert Ticket.objects.count() == 0


def test_reply_and_note_are_recorded(support, alice):
    ticket = f.ticket(support)
    services.reply(ticket, alice, "On it")
    services.reply(ticket, alice, "Customer is VIP", internal=True)
    kinds = list(Message.objects.filter(conversation__ticket=ticket).values_list("kind", flat=True))
    assert kinds == ["customer", "agent", "note"]
    assert verbs(ticket) == ["opened", "replied", "noted"]


@pytest.mark.parametrize("body", ["", "   \n "])
def test_empty_reply_is_refused_and_nothing_changes(support, alice, body):
    ticket = f.ticket(support)
    before = ticket.updated_at
    with pytest.raises(services.ActionError, match="empty"):
        services.reply(ticket, alice, body)
    ticket.refresh_from_db()
    assert ticket.updated_at == before
    assert Message.objects.filter(conversation__ticket=ticket).count() == 1
    assert verbs(ticket) == ["opened"]


def test_oversized_reply_is_refused(support, alice):
    ticket = f.ticket(support)
    with pytest.raises(services.ActionError, match="longer than"):
        services.reply(ticket, alice, "x" * (services.MAX_MESSAGE_LENGTH + 1))


SEEN = []


def seen_hook(ticket, actor, kind, reason):
    SEEN.append((ticket.pk, ticket.status, actor, kind, reason))


def broken_hook(**kwargs):
    raise RuntimeError("hook failed")


def test_closing_writes_closed_at_and_an_event_and_runs_the_close_hooks_in_order(support, alice, settings):
    ticket = f.ticket(support)
    SEEN.clear()
    settings.CLOSE_HOOKS = [*settings.CLOSE_HOOKS, "tests.unit.test_services.seen_hook"]
    services.close_ticket(ticket, alice)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED and ticket.closed_at is not None
    assert SEEN == [(ticket.pk, "closed", alice, "ticket", "agent")]
    assert verbs(ticket)[-1] == "closed"


def test_a_failing_close_hook_rolls_the_close_back(support, alice, settings):
    ticket = f.ticket(support)
    settings.CLOSE_HOOKS = [*settings.CLOSE_HOOKS, "tests.unit.test_services.broken_hook"]
    with pytest.raises(RuntimeError):
        services.close_ticket(ticket, alice)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert "closed" not in verbs(ticket)


def test_closing_a_closed_ticket_is_refused_and_changes_nothing(support, alice):
    ticket = f.ticket(support)
    services.close_ticket(ticket, alice)
    ticket.refresh_from_db()
    closed_at = ticket.closed_at
    with pytest.raises(services.ActionError, match="already closed"):
        services.close_ticket(ticket, alice)
    ticket.refresh_from_db()
    assert ticket.closed_at == closed_at
    assert verbs(ticket).count("closed") == 1


def test_reopen_and_pending_cycle(support, alice):
    ticket = f.ticket(support)
    services.change_status(ticket, "pending", alice)
    services.change_status(ticket, "open", alice)
    services.change_status(ticket, "closed", alice)
    services.change_status(ticket, "open", alice)
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.closed_at is None
    assert verbs(ticket) == ["opened", "status_changed", "status_changed", "closed", "reopened"]


def test_unknown_status_is_refused(support, alice):
    ticket = f.ticket(support)
    with pytest.raises(services.ActionError, match="Unknown status"):
        services.change_status(ticket, "archived", alice)


def test_replying_to_a_closed_ticket_is_refused_but_a_note_is_allowed(support, alice):
    ticket = f.ticket(support)
    services.close_ticket(ticket, alice)
    with pytest.raises(services.ActionError, match="closed"):
        services.reply(ticket, alice, "hello")
    services.reply(ticket, alice, "for the record", internal=True)


def test_assigning_outside_the_team_is_refused(support, alice):
    billing_agent = f.agent(f.team("Billing"))
    ticket = f.ticket(support)
    with pytest.raises(services.ActionError, match="not in the Support team"):
        services.assign(ticket, billing_agent, alice)
    services.assign(ticket, alice, alice)
    ticket.refresh_from_db()
    assert ticket.assignee == alice
    assert Event.objects.filter(ticket=ticket, verb="assigned").get().data == {"assignee": "Alice Agent", "previous": None}


def test_a_supervisor_can_be_assigned_any_team(support, alice):
    sup = f.agent(None, role=Agent.Role.SUPERVISOR)
    ticket = f.ticket(support)
    services.assign(ticket, sup, alice)


def test_customer_message_with_the_same_client_id_is_stored_once(support):
    ticket = f.ticket(support)
    first = services.customer_message(ticket, "hello", client_id="abc")
    again = services.customer_message(ticket, "hello", client_id="abc")
    assert first.pk == again.pk
    assert Message.objects.filter(conversation__ticket=ticket, client_id="abc").count() == 1


def test_events_are_append_only(support):
    ticket = f.ticket(support)
    event = Event.objects.get(ticket=ticket)
    event.verb = "tampered"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        Event.objects.filter(ticket=ticket).update(verb="x")
    assert Event.objects.get(ticket=ticket).verb == "opened"


def test_a_close_hook_that_cannot_be_imported_fails_the_system_check(settings):
    from django.core.checks import run_checks

    assert not [e for e in run_checks() if e.id == "helpdesk.E001"]
    settings.CLOSE_HOOKS = [*settings.CLOSE_HOOKS, "integrations.cobrowse.services.end_linkd_sessions"]
    errors = [e for e in run_checks() if e.id == "helpdesk.E001"]
    assert len(errors) == 1 and "end_linkd_sessions" in errors[0].msg
