"""Static files: collected at build time into STATIC_ROOT (hashed names, gzip copies, the manifest
staticfiles.json) and served by WhiteNoise from there only; node_modules is never read at run time."""

import gzip
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import SystemCheckError
from django.test import Client

from helpdesk.checks import static_files_collected
from tests import factories as f

pytestmark = pytest.mark.django_db

SDK = "vendor/cobrowse-agent-sdk/cobrowse-agent-sdk.js"
A_YEAR = 365 * 24 * 3600


def hashed_url(html, name):
    """The URL the page gives for static file `name`: its name with a content hash."""
    stem, ext = name.rsplit(".", 1)
    found = re.findall(rf'"(/static/{re.escape(stem)}\.[0-9a-f]{{12}}\.{ext})"', html)
    assert found, f"the page does not reference {name} by a hashed name"
    return found[0]


def max_age(response):
    return int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1))


def empty_static_root(tmp_path):
    """A STATIC_ROOT with a valid (empty) manifest and no files."""
    (tmp_path / "staticfiles.json").write_text(json.dumps({"paths": {}, "version": "1.1", "hash": ""}))
    return tmp_path


def test_pages_reference_the_css_the_js_and_the_agent_sdk_by_hashed_names(as_alice, support):
    login = Client().get("/login/").content.decode()
    assert hashed_url(login, "css/helpdesk.css") and hashed_url(login, "js/helpdesk.js")
    ticket = as_alice.get(f"/tickets/{f.ticket(support).pk}/").content.decode()
    assert hashed_url(ticket, SDK) and hashed_url(ticket, "js/cobrowse-bridge.js")
    assert "node_modules" not in login + ticket


def test_a_hashed_file_is_cached_for_a_year_as_immutable_and_served_gzipped():
    url = hashed_url(Client().get("/login/").content.decode(), "css/helpdesk.css")
    collected = (Path(settings.STATIC_ROOT) / url.removeprefix("/static/")).read_bytes()

    plain = Client().get(url)
    assert plain.status_code == 200 and b"".join(plain.streaming_content) == collected
    assert max_age(plain) >= A_YEAR and "immutable" in plain["Cache-Control"]

    zipped = Client().get(url, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert zipped.status_code == 200 and zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert gzip.decompress(b"".join(zipped.streaming_content)) == collected


def test_the_agent_sdk_is_served_from_static_root_under_its_hashed_name(as_alice, support):
    page = as_alice.get(f"/tickets/{f.ticket(support).pk}/").content.decode()
    response = Client().get(hashed_url(page, SDK), HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert max_age(response) >= A_YEAR and "immutable" in response["Cache-Control"]
    assert response["Content-Type"].startswith("text/javascript")


def test_the_widget_keeps_its_plain_url_for_customer_sites_with_a_short_cache():
    """Customer sites embed /static/widget.js (README): served as collected, not as immutable."""
    response = Client().get("/static/widget.js")
    assert response.status_code == 200 and "immutable" not in response["Cache-Control"]
    assert max_age(response) < A_YEAR


@pytest.mark.parametrize("debug", [False, True])
def test_no_static_url_is_served_from_node_modules_or_the_source_folders(settings, tmp_path, debug):
    settings.DEBUG = debug  # with DEBUG on WhiteNoise looks files up per request (autorefresh)
    settings.STATIC_ROOT = str(empty_static_root(tmp_path))
    assert settings.WHITENOISE_USE_FINDERS is False
    for path in (SDK, "js/helpdesk.js", "widget.js"):
        assert Client().get(f"/static/{path}").status_code == 404, path


def test_runserver_serves_no_static_files_through_finders_either():
    assert get_commands()["runserver"] == "whitenoise.runserver_nostatic"
    parser = load_command_class("whitenoise.runserver_nostatic", "runserver").create_parser("manage.py", "runserver")
    assert parser.get_default("use_static_handler") is False


def test_without_collectstatic_the_check_warns_and_a_server_does_not_start(settings, tmp_path):
    settings.STATIC_ROOT = str(tmp_path)
    [warning] = static_files_collected(None)
    assert warning.id == "helpdesk.W001" and "collectstatic" in warning.msg and str(tmp_path) in warning.msg
    with pytest.raises(SystemCheckError, match="helpdesk.W001"):
        call_command("check", "--fail-level", "WARNING")
    with pytest.raises(ImproperlyConfigured, match="collectstatic"):
        Client().get("/login/")


def test_collectstatic_fills_static_root_from_the_sources_and_node_modules(settings, tmp_path):
    settings.STATIC_ROOT = str(tmp_path)
    call_command("collectstatic", interactive=False, verbosity=0)
    assert static_files_collected(None) == []
    paths = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for name in (SDK, "css/helpdesk.css", "widget.js"):
        assert (tmp_path / paths[name]).is_file() and (tmp_path / f"{paths[name]}.gz").is_file()
    login = Client().get("/login/").content.decode()
    assert f'"/static/{paths["css/helpdesk.css"]}"' in login
