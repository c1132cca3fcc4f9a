"""The widget's JSON frames (server side). Every frame is an object with a "type".

client -> server
  {"type": "hello", "site", "user_id", "expires", "signature", "name"?, "last_seen"?}   ("resume" is the same)
  {"type": "message", "client_id", "body"}
  {"type": "close"}
  {"type": "ping"}           the heartbeat, every 30 s: keeps the customer counted as present
  {"type": "typing"}         shown to the agents on the ticket ("… is typing") for 5 s; never answered
server -> client
  {"type": "welcome", "chat": {"id", "state"} | null, "limits": {...}}
  {"type": "history", "messages": [message...]}   after every hello: what came after last_seen
  {"type": "message", "id", "from": "customer"|"agent", "author", "body", "client_id", "at"}
  {"type": "ack", "client_id", "id"}               sent once the message is stored
  {"type": "closed", "chat_id", "reason"}
  {"type": "error", "code", "text", ...}           a refusal; the connection stays usable unless
                                                   the code is in FATAL (then it closes): an identity
                                                   one, hello_timeout (no hello within
                                                   CHAT_HELLO_TIMEOUT_SECONDS of opening) or
                                                   too_many_connections (with "limit": "identity" or
                                                   "address")
  {"type": "pong"}

A frame that is not this shape gets an error frame naming the problem: bad_json, too_long, too_deep
(nesting deeper than json_input.MAX_DEPTH), bad_number (NaN, Infinity, beyond 2**53), bad_type,
bad_field; a hello (or resume) that is not this shape is a bad_identity. Fields not listed are ignored.
"""

from helpdesk import json_input
from helpdesk.json_input import Int, Object, Text
from helpdesk.models import Message

# Refusals after which the server closes the connection, with these websocket close codes.
FATAL = {"unsigned": 4401, "forged": 4401, "expired": 4401, "bad_identity": 4401,
         "unknown_site": 4403, "origin_not_allowed": 4403, "site_unavailable": 4403,
         "hello_timeout": 4408, "too_many_connections": 4429}
MAX_CLIENT_ID = 64

_CLIENT_ID = Text(max_length=MAX_CLIENT_ID)
_HELLO = Object({  # which identity fields are missing, forged or expired is identity.verify's to say
    "site": Text(max_length=50, required=False, blank=True, default=""),
    "user_id": Text(max_length=None, required=False, blank=True),
    "expires": Int(min_value=0, from_text=True, required=False, empty_is_absent=True),
    "signature": Text(max_length=None, required=False, blank=True),
    "name": Text(max_length=1000, required=False, blank=True, default=""),
    "last_seen": Int(min_value=0, required=False, default=0),
})
SHAPES = {
    "hello": _HELLO,
    "resume": _HELLO,
    "message": Object({"client_id": _CLIENT_ID, "body": Text(max_length=None, blank=True)}),
    "close": Object(),
    "typing": Object(),
    "ping": Object(),
}
_FRAME = Object({"type": Text(choices=tuple(SHAPES))})


class FrameError(Exception):
    """A client frame that is not the documented shape: answer with error(code, text, **extra)."""

    def __init__(self, code, text, **extra):
        super().__init__(text)
        self.code, self.text, self.extra = code, text, extra


def read(text, max_chars):
    """(type, cleaned fields) of a client frame, or FrameError."""
    try:
        frame = json_input.loads(text, max_size=max_chars, what="frame")
        kind = _FRAME.clean(frame, what="frame")["type"]
    except json_input.InvalidInput as exc:
        code = {"too_large": "too_long", "bad_field": "bad_type"}.get(exc.code, exc.code)
        raise FrameError(code, exc.reason) from None
    try:
        return kind, SHAPES[kind].clean(frame, what=f"{kind} frame")
    except json_input.InvalidInput as exc:
        if kind in ("hello", "resume"):
            raise FrameError("bad_identity", exc.reason) from None
        try:  # the widget marks that message as failed
            extra = {"client_id": _CLIENT_ID.clean(frame.get("client_id"), "client_id")} if kind == "message" else {}
        except json_input.InvalidInput:
            extra = {}
        raise FrameError("bad_field", exc.reason, **extra) from None


def message_frame(message, customer_name):
    agent = message.kind == Message.Kind.AGENT
    return {
        "type": "message",
        "id": message.pk,
        "from": "agent" if agent else "customer",
        "author": (message.author.display_name if message.author else "Agent") if agent else customer_name,
        "body": message.body,
        "client_id": message.client_id,
        "at": message.created_at.isoformat(),
    }


def error(code, text, **extra):
    return {"type": "error", "code": code, "text": text, **extra}
