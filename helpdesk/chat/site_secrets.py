"""A chat site's secret: made when the site is created, replaced when an admin rotates it.

The plain value exists only when it is made (shown to the admin once); it is stored sealed.
Each change is an Event (ticket=None) naming who and which site, never the secret.
"""

import logging

from django.db import transaction

from helpdesk import services as helpdesk
from helpdesk.events import Verb

logger = logging.getLogger(__name__)


@transaction.atomic
def create(site, actor):
    """Save a new site (built by its admin form) with a fresh secret; returns the plain secret."""
    secret = site.replace_secret()
    site.save()
    helpdesk.record(None, actor, Verb.CHAT_SITE_CREATED, site=site.key)
    return secret


@transaction.atomic
def rotate(site, actor):
    """A new secret; identities signed with the old one are refused at once. Returns the plain new secret."""
    secret = site.replace_secret()
    site.save(update_fields=["sealed_secret"])
    helpdesk.record(None, actor, Verb.CHAT_SITE_SECRET_ROTATED, site=site.key)
    return secret


def unreadable(site):
    """Whether no encryption key opens the site's secret (logged with the site's key, never the secret)."""
    if site.secret_readable:
        return False
    logger.warning("Chat site %s (id %s): its secret cannot be decrypted with FIELD_ENCRYPTION_KEYS", site.key, site.pk)
    return True
