from django.urls import re_path

from . import api, control, embeds

urlpatterns = [
    re_path(r"^api/1/sessions/?$", api.sessions),
    re_path(r"^api/1/sessions/(?P<id_or_code>[^/]+)/?$", api.session_detail),
    re_path(r"^api/1/sessions/(?P<session_id>[^/]+)/recording/?$", api.session_recording),
    re_path(r"^api/1/sessions/(?P<session_id>[^/]+)/tokens/?$", api.session_tokens),
    re_path(r"^api/1/devices/?$", api.devices),
    re_path(r"^api/1/devices/(?P<device_id>[^/]+)/?$", api.device_detail),
    re_path(r"^api/1/devices/(?P<device_id>[^/]+)/notifications/?$", api.device_notifications),
    re_path(r"^api/1/users/(?P<user_id>[^/]+)/?$", api.user_detail),
    re_path(r"^api/1/accounts/?$", api.accounts),
    re_path(r"^api/1/policy/current/?$", api.policy_current),
    re_path(r"^api/1/regions/closest/?$", api.regions_closest),
    re_path(r"^__sandbox__/accounts/?$", control.accounts),
    re_path(r"^__sandbox__/devices/?$", control.devices),
    re_path(r"^__sandbox__/devices/(?P<device_id>[^/]+)/?$", control.device_detail),
    re_path(r"^__sandbox__/devices/(?P<device_id>[^/]+)/code/?$", control.device_code),
    re_path(r"^__sandbox__/sessions/bulk/?$", control.sessions_bulk),
    re_path(r"^__sandbox__/sessions/(?P<session_id>[^/]+)/device-action/?$", control.device_action),
    re_path(r"^__sandbox__/sessions/(?P<session_id>[^/]+)/?$", control.session_raw),
    re_path(r"^__sandbox__/clock/?$", control.clock),
    re_path(r"^__sandbox__/reset/?$", control.reset),
    re_path(r"^__sandbox__/faults/?$", control.faults),
    re_path(r"^__sandbox__/stats/?$", control.stats),
    re_path(r"^dashboard/?$", embeds.embed, {"page": "dashboard"}),
    re_path(r"^code/?$", embeds.embed, {"page": "code"}),
    re_path(r"^connect/?$", embeds.embed, {"page": "connect"}),
    re_path(r"^connect/device/(?P<device_id>[^/]+)/?$", embeds.embed, {"page": "connect"}),
    re_path(r"^session/(?P<session_id>[^/]+)/?$", embeds.embed, {"page": "session"}),
    re_path(r"^demo/shop/?$", embeds.demo_shop),
]
