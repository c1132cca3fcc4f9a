"""The close path: what ending an interaction with a customer does, in the order it happens.

An interaction ends when
- a ticket closes: helpdesk.services.close_ticket (an agent's click, an incoming webhook);
- its live chat closes: helpdesk.chat.services.close_chat (the agent, the customer going away, a webhook);
- a call or an outside chat about the ticket ends: helpdesk.services.end_external_interaction
  (an incoming webhook).

Inside the closing transaction (if any step fails, none of it happened):
1. the ticket or chat is marked closed and its Event recorded; recording any Event runs
   settings.EVENT_HOOKS, so the outgoing webhooks write their deliveries (ticket.closed, ...);
2. interaction_closed() runs every hook in settings.CLOSE_HOOKS, in order, with the ticket, the
   actor, the kind ("ticket", "chat" or "external") and the reason:
   - helpdesk.chat.services.close_chat_with_its_ticket: a closing ticket closes its open chat;
   - integrations.cobrowse.services.end_linked_sessions: every live co-browse session linked to
     the ticket gets an end request (cause ticket_closed, chat_closed or external_closed) and an
     end task.
After the commit:
3. the live views hear ticket_changed (helpdesk.live) and push the new header, chat panel and
   co-browse card to every open page;
4. the task worker runs each end task (integrations.cobrowse.tasks.end_session): it ends the
   session through Cobrowse's REST API, retrying with a backoff while Cobrowse is unavailable,
   and records the end (Verb.COBROWSE_ENDED, with its cause); it also sends the webhook deliveries;
5. the repair job (manage.py cobrowse_reconcile, integrations.cobrowse.services.reconcile)
   re-enqueues ends a stopped worker left behind and ends sessions still live on closed tickets.

The hooks are named in settings, not imported here, so the helpdesk core imports no app.
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


@cache
def _load(names):
    return tuple(import_string(name) for name in names)


def interaction_closed(ticket, actor, kind, reason):
    """Run the close hooks (step 2), inside the caller's transaction."""
    for hook in _load(tuple(settings.CLOSE_HOOKS)):
        hook(ticket=ticket, actor=actor, kind=kind, reason=reason)


def event_recorded(event):
    """Run the event hooks for a new Event (step 1), inside the caller's transaction."""
    for hook in _load(tuple(settings.EVENT_HOOKS)):
        hook(event)
