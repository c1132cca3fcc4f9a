"""django-axes hooks: the answer to a refused sign-in (AXES_LOCKOUT_CALLABLE) and the username it
counts failures for (AXES_USERNAME_CALLABLE)."""

import math

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import render


# What django-axes' tables hold; no account's username is longer (Django's is at most 150).
AXES_USERNAME_MAX = 255


def client_username(request, credentials=None):
    """axes' own choice of username, cut to what its tables hold: a longer one sent to the sign-in
    form was a 500 on PostgreSQL (and the cut merges only names no account has)."""
    if credentials:
        username = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        username = getattr(request, "data", request.POST).get(settings.AXES_USERNAME_FORM_FIELD)
    return username[:AXES_USERNAME_MAX] if isinstance(username, str) else username


@receiver(user_logged_in, dispatch_uid="helpdesk.sign_in.reset_own_failures")
def reset_own_failures(sender, user, **kwargs):
    """A successful sign-in forgets this username's failures, and only those: failures against
    other usernames from the same address still count towards the address's limit."""
    AccessAttempt.objects.filter(username=client_username(None, {settings.AXES_USERNAME_FORM_FIELD: user.get_username()})).delete()


def locked_out(request, original_response=None, credentials=None):
    # Every refused attempt restarts the pause (axes' default), so the full cool-off is what is left.
    minutes = max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(request, "registration/locked_out.html", {"cooloff_minutes": minutes},
                  status=settings.AXES_HTTP_RESPONSE_CODE)
