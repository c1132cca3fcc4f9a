"""The demo chat site used by /demo/chat/ (seeded by `manage.py seed_demo`)."""

import os

from django.conf import settings

from .models import ChatSite

DEMO_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000"]


def seed_demo_site(team):
    """Create the demo site once (its secret is random); later runs only add new origins."""
    extra = [o.strip().rstrip("/") for o in os.environ.get("CHAT_DEMO_ORIGINS", "").split(",") if o.strip()]
    site, created = ChatSite.objects.get_or_create(
        key=settings.CHAT_DEMO_SITE,
        defaults={"name": "Demo shop", "team": team, "allowed_origins": "\n".join(DEMO_ORIGINS + extra)},
    )
    missing = [o for o in DEMO_ORIGINS + extra if o not in site.origins]
    if missing:
        site.allowed_origins = "\n".join(site.origins + missing)
        site.save(update_fields=["allowed_origins"])
    return site, created
