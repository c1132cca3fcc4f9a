"""Agent JWT verification as the service does it (CONTRACT 4): RS256, iss = license key."""

import random
from dataclasses import dataclass

import jwt
from django.conf import settings

from . import policy as policies
from . import runtime
from .errors import unauthorized
from .models import Account, User, token

AUDIENCE = "https://cobrowse.io"
AGENT_COLOURS = ["#3C8DBC", "#E67E22", "#8E44AD", "#16A085", "#C0392B"]


@dataclass
class Caller:
    account: Account
    user: User
    role: str | None  # None: a custom role (`role: null` + policy), the policy alone decides
    policy: dict | None

    @property
    def is_admin(self):
        return self.role == "administrator"

    @property
    def is_custom(self):
        return self.role is None


def verify(raw):
    """Claims of a valid token, or ApiError 401 with the jsonwebtoken-style message."""
    if not raw:
        raise unauthorized("jwt must be provided")
    try:
        header = jwt.get_unverified_header(raw)
        claims = jwt.decode(raw, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise unauthorized("jwt malformed") from None
    if header.get("alg") != "RS256":
        raise unauthorized("invalid algorithm")
    account = Account.objects.filter(license_key=str(claims.get("iss") or "")).first()
    if account is None:
        raise unauthorized("jwt issuer invalid")
    verified = None
    for pem in account.public_keys:
        try:
            verified = jwt.decode(raw, pem, algorithms=["RS256"], options={
                "verify_exp": False, "verify_aud": False, "verify_nbf": False, "verify_iat": False})
            break
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError:
            raise unauthorized("jwt malformed") from None
    if verified is None:
        raise unauthorized("invalid signature")
    audiences = verified.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if not set(audiences) & {AUDIENCE, *settings.SANDBOX_EXTRA_AUDIENCES}:
        raise unauthorized(f"jwt audience invalid. expected: {AUDIENCE}")
    now = runtime.now().timestamp()
    if "exp" not in verified or "iat" not in verified or not verified.get("sub"):
        raise unauthorized("jwt malformed")
    if now >= float(verified["exp"]):
        raise unauthorized("jwt expired")
    if "nbf" in verified and now < float(verified["nbf"]):
        raise unauthorized("jwt not active")
    return account, verified


def caller_from_token(raw):
    account, claims = verify(raw)
    policy = policies.normalise(claims["policy"]) if "policy" in claims else None
    role = claims.get("role")
    if role is None and "role" in claims and policy is not None:
        role = None  # custom role (CONTRACT 5.1): no role rules, only the policy
    elif role not in ("agent", "administrator"):
        role = "agent"  # absent (U10), or null without a policy, or unknown
    user = User.objects.filter(account=account, email=claims["sub"]).first()
    name = claims.get("displayName") or claims["sub"]
    if user is None:
        user = User.objects.create(
            account=account, email=claims["sub"], name=name, role=role or "agent",
            user_id=f"usr_{random.getrandbits(64):016x}", colour=random.choice(AGENT_COLOURS),
            notification_token=token("nt"),
        )
    elif (user.name, user.role) != (name, role or user.role):
        user.name, user.role = name, role or user.role
        user.save(update_fields=["name", "role"])
    return Caller(account=account, user=user, role=role, policy=policy)


def caller_from_request(request):
    header = request.headers.get("Authorization", "")
    raw = header[7:].strip() if header.lower().startswith("bearer ") else ""
    return caller_from_token(raw)
