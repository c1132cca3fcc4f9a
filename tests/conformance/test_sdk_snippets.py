"""The official agent SDK (Node) runs the Cobrowse sample snippets against the sandbox."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.sandbox
SCRIPT = Path(__file__).with_name("sdk_snippets.mjs")


def test_official_sdk_snippets_against_the_sandbox(sandbox):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    env = {
        "SANDBOX_URL": sandbox.url, "LICENSE_KEY": sandbox.license_key, "PATH": os.environ.get("PATH", ""),
        "AGENT_TOKEN": sandbox.jwt(sub="agent@example.com", role="agent"),
        "ADMIN_TOKEN": sandbox.jwt(sub="admin@example.com", role="administrator"),
        "EXPIRED_TOKEN": sandbox.jwt(sub="agent@example.com", lifetime=-60),
    }
    result = subprocess.run([node, "--experimental-websocket", "--no-warnings", str(SCRIPT)], env=env,
                            capture_output=True, text=True, timeout=120, cwd=SCRIPT.parents[2])
    checks = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    failures = [c for c in checks if not c["ok"]]
    assert not failures, f"{failures}\n{result.stderr[-2000:]}"
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(checks) >= 12, checks
