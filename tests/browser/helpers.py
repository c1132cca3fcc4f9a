"""What the browser tests share: waiting for a condition, signing an agent in."""

import time

from tests import factories as f


def wait_for(check, timeout=15):
    """The first truthy value of check(), polled until the timeout."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return value


def sign_in(page, base_url, agent):
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", agent.user.username)
    page.fill("#id_password", f.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/tickets/")
