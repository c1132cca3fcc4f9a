import json

from django import template
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from integrations.cobrowse import account, embeds, tokens

register = template.Library()


@register.inclusion_tag("cobrowse/_card.html", takes_context=True)
def cobrowse_card(context, ticket, links):
    """The co-browse card of a ticket page: no REST call, one cached token. `links` is the
    ticket's (cached) "cobrowse" fragment, the list of its sessions."""
    request = context["request"]
    try:
        token = tokens.agent_token(request.agent)
    except ImproperlyConfigured as exc:
        return {"ticket": ticket, "cobrowse_config": None, "cobrowse_error": str(exc)}
    except tokens.NoPolicy as exc:
        return {"ticket": ticket, "cobrowse_config": None, "cobrowse_off": str(exc)}
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
