"""The agent embed pages (CONTRACT 8) and the simulated customer device page.

The embeds are one small page whose script (static/sandbox/embed.js) calls this service's own
REST API with the agent's token, speaks the iframe bridge with the host page, and renders the
session viewer. Nothing here needs cookies: the token lives in page memory.
"""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt

HIDE_PARAMS = ("navigation", "popout", "agent_tools", "device_controls", "messages", "session_details")
END_ACTIONS = ("dashboard", "none", "code")


def _params(request):
    get = request.GET
    hidden = {name: get.get(name) == "none" for name in HIDE_PARAMS}
    hidden["navigation"] = hidden["navigation"] or get.get("nochrome") == "true"
    hidden["popout"] = hidden["popout"] or get.get("allow_popout") == "false"
    end_action = get.get("end_action")
    return {
        "hide": hidden,
        "end_action": end_action if end_action in END_ACTIONS else "dashboard",
        "filters": {k[len("filter_"):]: v for k, v in get.items() if k.startswith("filter_")},
        "token_source": get.get("token_source") or "",
        # Passed on when the page navigates (end_action), without the token.
        "passthrough": {k: v for k, v in get.items() if k != "token"},
    }


@xframe_options_exempt
def embed(request, page, session_id=None, device_id=None):
    config = {"page": page, "session_id": session_id, "device_id": device_id,
              "token": request.GET.get("token", ""), **_params(request)}
    response = render(request, "sandbox/embed.html", {"config": config, "page": page})
    response["Content-Security-Policy"] = f"frame-ancestors {settings.SANDBOX_FRAME_ANCESTORS}"
    response["Cache-Control"] = "no-store"
    return response


def demo_shop(request):
    """A customer's web page with the (simulated) device SDK: registers a device, keeps presence,
    asks for consent, mirrors itself to the agent, shows the agent's laser and drawings."""
    config = {"user_id": request.GET.get("user_id", "customer-001"), "name": request.GET.get("name", "Maria Garcia"),
              "license_key": request.GET.get("license_key", ""), "device_id": request.GET.get("device_id", "")}
    return render(request, "sandbox/shop.html", {"config": config})
