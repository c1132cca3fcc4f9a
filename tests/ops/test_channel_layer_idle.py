"""A websocket that hears nothing for longer than one of channels_redis' 5 s blocking pops still
gets the next message: the Redis connection's read timeout must not end the wait first."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.conf import settings


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs the Redis channel layer (REDIS_URL): the PostgreSQL + Redis run")
async def test_a_receive_outlasts_an_idle_blocking_pop():
    layer = get_channel_layer()
    channel = await layer.new_channel("idle.")

    async def send_later():
        await asyncio.sleep(7)
        await layer.send(channel, {"type": "after.idle"})

    sender = asyncio.create_task(send_later())
    message = await asyncio.wait_for(layer.receive(channel), timeout=20)
    await sender
    assert message["type"] == "after.idle"
