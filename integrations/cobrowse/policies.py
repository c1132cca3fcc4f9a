"""Cobrowse JWT policies (the `policy` claim): validation, and changes made by admins.

The structure is the one Cobrowse documents (version 3):
{"version": 3, "sessions": {"custom_data": {...}, "id": "..."}, "devices": {...}, "push": {},
 "features": {"permissions": ["read"]}}. A policy switches a token to allow-list mode: whatever it
does not grant is refused by the service.
"""

import json
import math

from django.core.exceptions import ValidationError
from django.db import transaction

from helpdesk import json_input
from helpdesk import services as helpdesk
from helpdesk.events import Verb

from .models import JwtPolicy

VERSIONS = (2, 3)
RESOURCES = ("sessions", "devices", "push", "features")
RESOURCE_KEYS = {"custom_data", "id", "permissions"}
PERMISSIONS = ("read", "write")
MAX_LENGTH = 8000


def parse(text):
    """A policy from the editor's JSON text, validated; raises ValidationError with every problem."""
    try:
        policy = json_input.loads(text, max_size=MAX_LENGTH, what="policy")
    except json_input.InvalidInput as exc:
        raise ValidationError(exc.reason) from None
    validate(policy)
    return policy


def validate(policy):
    errors = []
    if not isinstance(policy, dict):
        raise ValidationError("A policy is a JSON object, e.g. {\"version\": 3, \"sessions\": {}}.")
    if "version" not in policy:
        errors.append("version is required: use 3.")
    elif type(policy["version"]) is not int or policy["version"] not in VERSIONS:
        errors.append("version must be 3 (or 2, the older format with the same shape).")
    for key in policy:
        if key != "version" and key not in RESOURCES:
            errors.append(f"Unknown key {key!r}: a policy has version and any of {', '.join(RESOURCES)}.")
    for resource in RESOURCES:
        if resource in policy:
            errors.extend(_resource_errors(resource, policy[resource]))
    if not all(helpdesk.storable_text(text) for text in _texts(policy)):
        errors.append("Text in a policy cannot contain a NUL character (\\u0000) or a lone surrogate.")
    if errors:
        raise ValidationError(errors)


def _texts(value):
    """Every key and string in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def _resource_errors(resource, value):
    if not isinstance(value, dict):
        return [f"{resource} must be an object ({{}} grants every {resource[:-1] if resource != 'push' else 'push'})."]
    errors = []
    for key in value:
        if key not in RESOURCE_KEYS:
            errors.append(f"{resource}.{key} is not supported: only custom_data, id and permissions can be used.")
    if "custom_data" in value:
        data = value["custom_data"]
        if not isinstance(data, dict):
            errors.append(f"{resource}.custom_data must be an object of key: value pairs.")
        else:
            for key, item in data.items():
                if not key.strip():
                    errors.append(f"{resource}.custom_data has an empty key.")
                if isinstance(item, bool) or not isinstance(item, (str, int, float)) or not _finite(item):
                    errors.append(f"{resource}.custom_data.{key} must be a string or a number.")
    if "id" in value and (not isinstance(value["id"], str) or not value["id"]):
        errors.append(f"{resource}.id must be a non-empty string.")
    if "permissions" in value:
        perms = value["permissions"]
        if not isinstance(perms, list) or not perms or any(p not in PERMISSIONS for p in perms):
            errors.append(f"{resource}.permissions must be a non-empty list of {' and '.join(PERMISSIONS)}.")
    return errors


def _finite(value):
    return not isinstance(value, (int, float)) or (math.isfinite(value) and abs(value) <= json_input.MAX_NUMBER)


def pretty(policy):
    return json.dumps(policy, indent=2, sort_keys=False)


def save(team, actor, *, policy, enabled):
    """Store the team's policy and write an Event saying who changed what. Returns the JwtPolicy."""
    validate(policy)
    with transaction.atomic():
        current = JwtPolicy.objects.select_for_update().filter(team=team).first()
        before = {"policy": current.policy, "enabled": current.enabled} if current else None
        after = {"policy": policy, "enabled": enabled}
        if before == after:
            return current
        current = current or JwtPolicy(team=team)
        current.policy, current.enabled, current.updated_by = policy, enabled, actor
        current.save()
        helpdesk.record(None, actor, Verb.POLICY_CHANGED, team=team.name, team_id=team.pk, before=before, after=after)
    return current


def remove(team, actor):
    with transaction.atomic():
        current = JwtPolicy.objects.select_for_update().filter(team=team).first()
        if current is None:
            return
        helpdesk.record(None, actor, Verb.POLICY_REMOVED, team=team.name, team_id=team.pk,
                        before={"policy": current.policy, "enabled": current.enabled})
        current.delete()
