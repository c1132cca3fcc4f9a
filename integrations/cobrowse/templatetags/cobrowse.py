import json

from django import template
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from integrations.cobrowse import account, embeds, tokens

register = template.Library()


def _token_or_refusal(agent):
    """(token, None), or (None, {what the card shows instead}) when the agent gets no token."""
    try:
        return tokens.agent_token(agent), None
    except ImproperlyConfigured as exc:
        return None, {"cobrowse_config": None, "cobrowse_error": str(exc)}
    except tokens.NoPolicy as exc:
        return None, {"cobrowse_config": None, "cobrowse_off": str(exc)}


def card_key(request, ticket):
    """What the card draws for this agent beyond the ticket: the ticket page's cache key part."""
    token, refusal = _token_or_refusal(request.agent)
    return json.dumps([token, refusal, account.api()], sort_keys=True)


@register.inclusion_tag("cobrowse/_card.html", takes_context=True)
def cobrowse_card(context, ticket, links):
    """The co-browse card of a ticket page: no REST call, one cached token. `links` is the
    ticket's (cached) "cobrowse" fragment, the list of its sessions."""
    token, refusal = _token_or_refusal(context["request"].agent)
    if refusal:
        return {"ticket": ticket, **refusal}
    config = {
        "api": account.api(),
        "token": token,
        "tokenExpires": tokens.token_expiry(token),
        "tokenUrl": reverse("cobrowse_token"),
        "bridgeUrl": reverse("cobrowse_bridge", args=[ticket.pk]),
        "panelUrl": reverse("cobrowse_panel", args=[ticket.pk]),
        "customerUserId": ticket.customer.user_id,
        "ownControls": embeds.OWN_CONTROLS,
        "connectUrl": embeds.connect_url(ticket.customer, token),
        "codeUrl": embeds.code_url(token),
    }
    return {"ticket": ticket, "links": links, "cobrowse_config": json.dumps(config)}
