"""The ticket page, cached whole for each agent, so that a view with nothing changed draws nothing.

Its key is made of everything the page shows:
- the agent's own name, role and team (the navigation),
- the URL with its query (the list column's filters and page),
- the ticket page's and the list's versions (versions.py: the ticket, its messages, events and live
  fragments, every visible ticket, admin edits),
- the ticket's subject and its customer's card,
- what each integration draws for this agent (register_key: the co-browse card and its token),
- the templates and static files of the running release.
So an entry is never shared between agents, and any change to what it shows makes a new key.

The CSRF token differs on every response: the cached page holds a hole for it (fragments.CSRF_HOLE),
filled per response. A response with flash messages to show is drawn in full, since they are shown
once, and so is every page with DEBUG on (templates then change under a running process).
"""

import functools
import hashlib
from pathlib import Path

from django.conf import settings
from django.contrib.messages import get_messages
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.template import engines

from .fragments import CSRF_HOLE

CACHE_SECONDS = 600
_KEYS = {}


def register_key(name, key_fn):
    """key_fn(request, ticket) -> str: what an integration draws on the ticket page for this
    request's agent beyond its cached fragments; the page is drawn again when it changes."""
    _KEYS[name] = key_fn


@functools.cache
def _release():
    """A digest of the templates and the static files' manifest this process serves."""
    digest = hashlib.sha256(getattr(staticfiles_storage, "manifest_hash", "").encode())
    for directory in sorted({str(d) for engine in engines.all() for d in engine.template_dirs}):
        for path in sorted(Path(directory).rglob("*.html")):
            digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _key(request, ticket, versions):
    agent, customer = request.agent, ticket.customer
    team = agent.team  # read with the user (auth_backend.SELECT_RELATED)
    parts = [
        _release(), agent.pk, agent.display_name, agent.role, team and (team.pk, str(team)),
        request.get_full_path(), versions["page_version"], versions["list_version"],
        ticket.pk, ticket.subject, customer.pk, customer.name, customer.email, customer.user_id,
        *(f"{name}={key_fn(request, ticket)}" for name, key_fn in sorted(_KEYS.items())),
    ]
    return "ticket-page:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def page_html(request, ticket, versions, csrf_token, draw):
    """The page's HTML for this request. draw(csrf_token) renders it; it is called with the hole
    when the page can be cached, and only when no current entry exists."""
    if settings.DEBUG or len(get_messages(request)):
        return draw(csrf_token)
    key = _key(request, ticket, versions)
    html = cache.get(key)
    if html is None:
        html = draw(str(CSRF_HOLE))
        cache.set(key, html, CACHE_SECONDS)
    return html.replace(str(CSRF_HOLE), csrf_token)
