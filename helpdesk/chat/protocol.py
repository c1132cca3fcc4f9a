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
                                                   the code is an identity one (then it closes)
  {"type": "pong"}
"""

from helpdesk.models import Message

# Refusals after which the server closes the connection (websocket close code 4401 or 4403).
FATAL = {"unsigned": 4401, "forged": 4401, "expired": 4401, "bad_identity": 4401,
         "unknown_site": 4403, "origin_not_allowed": 4403, "site_unavailable": 4403}
MAX_CLIENT_ID = 64


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
