"""The Redis channel layer's connections: a websocket that hears nothing for longer than one of
channels_redis' 5 s blocking pops still gets the next message, and a consumer that leaves while
its receive is opening a connection finishes (its receive task ends when cancelled)."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings

needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs the Redis channel layer (REDIS_URL): the PostgreSQL + Redis run")


@needs_redis
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


@needs_redis
async def test_a_cancelled_receive_ends_wherever_the_cancellation_lands():
    # Channels cancels a consumer's receive when its socket closes. Cancelled at each step of the
    # loop in turn (a fresh layer each time: the first receive opens its connections), every receive
    # must end; one that swallowed the cancellation would poll Redis for ever, its consumer with it.
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    still_running = []
    for steps in range(40):
        layer = RedisChannelLayer(**config)
        receive = asyncio.ensure_future(layer.receive(await layer.new_channel("cancelled.")))
        for _ in range(steps):
            await asyncio.sleep(0)
        receive.cancel()
        done, _ = await asyncio.wait([receive], timeout=2)
        if done:
            await layer.flush()
        else:
            still_running.append(steps)
    assert still_running == []
