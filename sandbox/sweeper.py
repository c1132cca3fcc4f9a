"""A background loop in the server process that applies timeouts and delayed device joins,
so sessions end (and subscribers hear of it) even when no request comes in."""

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings

from .service import sweep

log = logging.getLogger(__name__)
_started = False


async def _loop():
    while True:
        try:
            await database_sync_to_async(sweep)()
        except Exception:  # keep sweeping; a failure here must not stop the server
            log.exception("sandbox sweep failed")
        await asyncio.sleep(settings.SANDBOX_SWEEP_INTERVAL)


def ensure_started():
    global _started
    if not _started:
        _started = True
        asyncio.get_running_loop().create_task(_loop())
