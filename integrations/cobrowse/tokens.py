"""Agent JWTs for Cobrowse, minted server-side (RS256). The private key never leaves the server.

A token is reused until it is close to expiry, so a page view or a REST call costs no signing.
"""

import functools
import hashlib
import json
import threading
import time

import jwt
from django.conf import settings

from .account import license_key, signing_key

# A token with less than this many seconds left is replaced by a fresh one.
RENEW_MARGIN = 60
SYSTEM_SUB = "helpdesk-system@helpdesk.invalid"
# A supervisor's watch token: one session, read only, this many seconds (the page refreshes it).
WATCH_LIFETIME = 300

_cache = {}
_lock = threading.Lock()


class NoPolicy(Exception):
    """COBROWSE_DENY_UNRESTRICTED_TEAMS is on and the agent's team has no (enabled) policy."""

    def __init__(self, agent):
        team = getattr(agent, "team", None)
        super().__init__(
            f"Co-browse is off for {team.name}: it has no JWT policy yet. An admin can add one in Settings → JWT policies."
            if team else "Co-browse is off for you: you are in no team, and only teams with a JWT policy can co-browse.")


def team_policy(agent):
    """The JWT policy of the agent's team, or None (no policy: unrestricted, the role alone decides)."""
    team = getattr(agent, "team", None)
    policy = getattr(team, "cobrowse_policy", None) if team else None
    return policy.policy if policy is not None and policy.enabled else None


def mint(sub, *, name, role="agent", policy=None, lifetime=None, key=None):
    """A signed agent JWT. `key` is (key_id, private key); by default the active signing key."""
    key_id, private = key or signing_key()
    now = int(time.time())
    claims = {
        "iss": license_key(),
        "sub": sub,
        "aud": settings.COBROWSE_JWT_AUDIENCE,
        "iat": now,
        "exp": now + (lifetime or settings.COBROWSE_JWT_LIFETIME),
        "displayName": name,
        "role": role,
    }
    if policy is not None:
        claims["policy"] = policy
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": key_id})


def cached_token(sub, *, name, role="agent", policy=None, refresh=False):
    """A token for these claims, reused until RENEW_MARGIN seconds before it expires."""
    signer = signing_key()
    key = hashlib.sha256(json.dumps([sub, name, role, policy, license_key(), signer[0]], sort_keys=True).encode()).hexdigest()
    now = time.time()
    with _lock:
        entry = _cache.get(key)
        if entry and not refresh and entry[1] - RENEW_MARGIN > now:
            return entry[0]
    token = mint(sub, name=name, role=role, policy=policy, key=signer)
    expires = now + settings.COBROWSE_JWT_LIFETIME
    with _lock:
        _cache[key] = (token, expires)
    return token


def agent_token(agent, *, refresh=False):
    """The agent's own token: their email and name, role agent, their team's policy.

    Supervisors and admins get the same (their own team's policy). A team without a policy is
    unrestricted, unless COBROWSE_DENY_UNRESTRICTED_TEAMS is on: then NoPolicy is raised.
    """
    policy = team_policy(agent)
    if policy is None and settings.COBROWSE_DENY_UNRESTRICTED_TEAMS:
        raise NoPolicy(agent)
    return cached_token(agent.email, name=agent.display_name, role="agent", policy=policy, refresh=refresh)


def watch_policy(session_id):
    return {"version": 3, "sessions": {"id": session_id, "permissions": ["read"]}}


def watch_token(agent, session_id):
    """A supervisor's token for watching one session: a custom role (role null), so only the
    policy decides, and the policy grants reading that one session and nothing else."""
    return mint(agent.email, name=agent.display_name, role=None, policy=watch_policy(session_id), lifetime=WATCH_LIFETIME)


def admin_token(*, refresh=False):
    """An administrator token for the helpdesk itself (ending sessions, counting, reconciling)."""
    return cached_token(SYSTEM_SUB, name="Helpdesk", role="administrator", refresh=refresh)


@functools.lru_cache(maxsize=256)
def token_expiry(token):
    return jwt.decode(token, options={"verify_signature": False})["exp"]


def clear_cache():
    with _lock:
        _cache.clear()
