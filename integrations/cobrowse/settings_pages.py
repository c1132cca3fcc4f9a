"""Admin pages: the Cobrowse account (API, license key, signing keys) and per-team JWT policies."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from helpdesk.events import Verb
from helpdesk.models import Agent, Event, Team
from helpdesk.services import storable_text
from helpdesk.views.common import admin_required

from . import account, policies, services
from .client import AuthError, CobrowseError
from .forms import AccountForm, PolicyForm
from .models import AccountSettings, JwtPolicy, SigningKey

DEFAULT_POLICY = {"version": 3, "sessions": {}, "devices": {}, "push": {}}
ACCOUNT_VERBS = (Verb.COBROWSE_SETTINGS_CHANGED, Verb.SIGNING_KEY_GENERATED, Verb.SIGNING_KEY_ACTIVATED,
                 Verb.SIGNING_KEY_DISCARDED)


@admin_required
def account_page(request):
    row = AccountSettings.objects.select_related("active_key", "updated_by").filter(pk=1).first()
    form = AccountForm(initial={"api": row.api if row else "", "license_key": row.license_key if row else ""})
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "save":
            form = AccountForm(request.POST)
            if form.is_valid():
                account.save_settings(request.agent, **form.cleaned_data)
                messages.success(request, "Saved. New tokens and calls use these settings.")
                return redirect("cobrowse_account")
        elif action == "check":
            _check_connection(request)
            return redirect("cobrowse_account")
        elif action == "generate":
            key = account.generate_key(request.agent)
            messages.success(request, f"Key {key.key_id} generated. Register its public key with Cobrowse, then activate it.")
            return redirect(f"{reverse('cobrowse_account')}#key-{key.key_id}")
        elif action in ("activate", "discard"):
            key_id = request.POST.get("key_id", "")
            key = get_object_or_404(SigningKey, key_id=key_id if storable_text(key_id) else "")
            _activate(request, key) if action == "activate" else _discard(request, key)
            return redirect("cobrowse_account")
        else:
            messages.error(request, "Unknown action.")
            return redirect("cobrowse_account")
    keys = list(SigningKey.objects.select_related("created_by"))
    context = {
        "settings_tab": "account", "form": form, "row": row,
        "effective_api": account.api(), "keys": keys, "unreadable_keys": account.unreadable_keys(keys),
        "file_key_active": not (row and row.active_key_id), "key_file": settings.COBROWSE_PRIVATE_KEY_FILE.name,
        "token_minutes": max(1, settings.COBROWSE_JWT_LIFETIME // 60),
        "history": Event.objects.filter(ticket=None, verb__in=ACCOUNT_VERBS).select_related("actor").order_by("-created_at")[:10],
    }
    try:
        context["effective_license"] = account.license_key()
    except ImproperlyConfigured as exc:
        context["config_error"] = str(exc)
    return render(request, "settings/cobrowse_account.html", context, status=422 if form.errors else 200)


def _check_connection(request):
    try:
        me = services.check_connection()
    except (CobrowseError, ImproperlyConfigured) as exc:
        messages.error(request, f"Cobrowse did not accept the helpdesk: {getattr(exc, 'message', exc)}")
    else:
        messages.success(request, f"Connected to {account.api()}: Cobrowse knows the helpdesk as {me.get('name') or me.get('email')} ({me.get('role')}).")


def _activate(request, key):
    if key.state == SigningKey.State.ACTIVE:
        messages.info(request, f"Key {key.key_id} already signs new tokens.")
        return
    try:
        services.check_key(key)
    except AuthError as exc:
        messages.error(request, f"Cobrowse refused a token signed with key {key.key_id} ({exc.message}) "
                                "Register its public key in the Cobrowse account first; nothing was changed.")
        return
    except (CobrowseError, ImproperlyConfigured) as exc:
        messages.error(request, f"Could not check the key with Cobrowse: {getattr(exc, 'message', exc)} Nothing was changed.")
        return
    account.activate(key, request.agent)
    messages.success(request, f"Key {key.key_id} now signs new tokens. Tokens signed before stay valid until they expire.")


def _discard(request, key):
    if account.discard_key(key, request.agent):
        messages.success(request, f"Key {key.key_id} discarded.")
    else:
        messages.error(request, "Only a key that was never activated can be discarded.")


# --- JWT policies ------------------------------------------------------------------------------

@admin_required
def policies_page(request):
    teams = Team.objects.order_by("name")
    by_team = {p.team_id: p for p in JwtPolicy.objects.select_related("updated_by")}
    rows = [(team, by_team.get(team.pk)) for team in teams]
    # Without an enabled policy a team is unrestricted, or gets no token at all in deny mode.
    unrestricted = [team for team, policy in rows if policy is None or not policy.enabled]
    return render(request, "settings/policies.html", {
        "settings_tab": "policies", "rows": rows, "unrestricted": unrestricted,
        "deny_unrestricted": settings.COBROWSE_DENY_UNRESTRICTED_TEAMS,
        "teamless": Agent.objects.filter(team=None).count(),
    })


@admin_required
def policy_edit(request, team_id):
    team = get_object_or_404(Team, pk=team_id)
    current = JwtPolicy.objects.filter(team=team).first()
    initial = {"policy": policies.pretty(current.policy if current else DEFAULT_POLICY),
               "enabled": current.enabled if current else True}
    form, preview, status = PolicyForm(initial=initial), None, 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "remove":
            policies.remove(team, request.agent)
            messages.success(request, f"{team} has no policy now: " + (
                "its agents get no co-browse token until it has one." if settings.COBROWSE_DENY_UNRESTRICTED_TEAMS
                else "its agents can see every device and session on the account."))
            return redirect("cobrowse_policies")
        form = PolicyForm(request.POST)
        if not form.is_valid():
            status = 422
        elif action == "preview":
            preview = _preview(request.agent, form.cleaned_data["policy"])
        else:
            policies.save(team, request.agent, **form.cleaned_data)
            messages.success(request, f"Policy of {team} saved. Its agents' next tokens carry it.")
            return redirect("cobrowse_policies")
    history = (Event.objects.filter(ticket=None, verb__in=(Verb.POLICY_CHANGED, Verb.POLICY_REMOVED), data__team_id=team.pk)
               .select_related("actor").order_by("-created_at")[:10])
    context = {"settings_tab": "policies", "team": team, "form": form, "current": current,
               "preview": preview, "history": history}
    template = "settings/_policy_preview.html" if request.htmx and action_is(request, "preview") else "settings/policy_edit.html"
    return render(request, template, context, status=status)


def action_is(request, name):
    return request.method == "POST" and request.POST.get("action") == name


def _preview(agent, policy):
    try:
        return {"devices": services.preview_policy(agent, policy)}
    except (CobrowseError, ImproperlyConfigured) as exc:
        return {"error": getattr(exc, "message", str(exc))}
