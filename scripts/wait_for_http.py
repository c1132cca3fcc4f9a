"""Wait until a URL answers (any HTTP status) and the given files exist; exit 1 after 60 s."""

import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

url, files = sys.argv[1], [Path(p) for p in sys.argv[2:]]
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        urllib.request.urlopen(url, timeout=1)
        up = True
    except urllib.error.HTTPError:
        up = True
    except OSError:
        up = False
    if up and all(f.exists() and f.stat().st_size for f in files):
        sys.exit(0)
    time.sleep(0.3)
print(f"{url} did not come up within 60 s", file=sys.stderr)
sys.exit(1)
