"""The channel layer of the live bus: channels_redis's pub/sub layer, made to heal after Redis returns.

channels_redis 4.3's pub/sub layer keeps one pub/sub connection per Redis host and process. When
Redis goes away and a subscribe is attempted meanwhile (a screen reconnecting), that connection is
left half-open with the receive loop and the subscribe both reading it; every later SUBSCRIBE fails
("Connection lost", "readuntil() called while another coroutine is already waiting") until the
process restarts, so new sockets are refused and open ones hear nothing.

Here a connection error drops the connection, opens a fresh one and subscribes it again to every
channel and group of the process, under the shard's lock: open sockets keep receiving, new sockets
are accepted as soon as Redis answers. Messages published while Redis was away are lost (pub/sub
delivers at most once); screens repair that from the snapshot API, as after any reconnect.
"""

import asyncio
import logging

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _close_redis, _wrap_close
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)
RETRY_SECONDS = 1.0  # the receive loop's pause between two attempts while Redis is away


class HealingShardConnection(RedisSingleShardConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # True from a connection error until a fresh connection is subscribed to everything again.
        self._broken = False

    async def publish(self, channel, message):
        async with self._lock:
            await self._healing(lambda: self._redis.publish(channel, message))

    async def subscribe(self, channel):
        async with self._lock:
            if channel in self._subscribed_to:
                return
            await self._healing(lambda: self._pubsub.subscribe(channel))
            self._subscribed_to.add(channel)

    async def unsubscribe(self, channel):
        async with self._lock:
            if channel not in self._subscribed_to:
                return
            self._subscribed_to.discard(channel)
            try:
                await self._healing(lambda: self._pubsub.unsubscribe(channel))
            except CONNECTION_ERRORS:
                pass  # Redis away: a fresh connection will not subscribe it again anyway

    async def _healing(self, operation):
        """Run `operation` on the connection; after a connection error, once more on a fresh one."""
        self._ensure_receiver()
        if self._broken:
            await self._reconnect()  # raises while Redis is still away
        else:
            self._ensure_redis()
        try:
            return await operation()
        except CONNECTION_ERRORS as exc:
            log.warning("live layer: Redis connection lost (%s); reconnecting", exc)
            self._broken = True
        await self._reconnect()
        return await operation()

    async def _reconnect(self):
        """A fresh connection, subscribed to everything this process listens to. Caller holds the lock."""
        await self._drop_connection()
        self._broken = True
        self._ensure_redis()
        if self._subscribed_to:
            await self._pubsub.subscribe(*self._subscribed_to)
        self._broken = False
        log.info("live layer: reconnected to Redis, %d channels subscribed", len(self._subscribed_to))

    async def _drop_connection(self):
        pubsub, redis = self._pubsub, self._redis
        self._redis = self._pubsub = None
        for closing in (pubsub.aclose if pubsub else None, (lambda: _close_redis(redis)) if redis else None):
            if closing is None:
                continue
            try:
                await asyncio.wait_for(closing(), 1)
            except Exception:  # noqa: S110  (a dead connection may fail to close; it is dropped anyway)
                pass

    async def _do_receiving(self):
        while True:
            try:
                pubsub = self._pubsub
                if pubsub is not None and pubsub.subscribed:
                    self._receive_message(await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1))
                else:
                    await asyncio.sleep(0.1)
            except (asyncio.CancelledError, GeneratorExit):
                raise
            except CONNECTION_ERRORS as exc:
                if self._pubsub is not pubsub and not self._broken:
                    continue  # a subscribe already replaced the connection this read was waiting on
                log.warning("live layer: receiving failed (%s); reconnecting", exc)
                self._broken = True
                await self._heal_from_receiver(pubsub)
            except Exception:
                log.exception("live layer: unexpected error while receiving")
                await asyncio.sleep(RETRY_SECONDS)

    async def _heal_from_receiver(self, broken):
        while True:
            await asyncio.sleep(RETRY_SECONDS)
            async with self._lock:
                if not self._broken and self._pubsub is not broken:
                    return  # healed meanwhile by a subscribe or publish
                try:
                    await self._reconnect()
                    return
                except CONNECTION_ERRORS as exc:
                    log.debug("live layer: Redis still away (%s)", exc)


class HealingLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._shards = [HealingShardConnection(shard.host, self) for shard in self._shards]


class HealingPubSubChannelLayer(RedisPubSubChannelLayer):
    """`channels_redis.pubsub.RedisPubSubChannelLayer` whose connections heal (see the module)."""

    async def group_listeners(self, groups) -> dict[str, int]:
        """How many processes listen on each group now (PUBSUB NUMSUB, on the server holding it)."""
        layer = self._get_layer()
        by_shard: dict[int, list[tuple[str, str]]] = {}
        for group in groups:
            channel = layer._get_group_channel_name(group)
            by_shard.setdefault(id(shard := layer._get_shard(channel)), [shard]).append((group, channel))
        counts: dict[str, int] = {}
        for shard, *pairs in by_shard.values():
            shard._ensure_redis()
            answer = await shard._redis.pubsub_numsub(*(channel for _group, channel in pairs))
            for (group, _channel), (_name, listeners) in zip(pairs, answer, strict=True):
                counts[group] = int(listeners)
        return counts

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = HealingLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer
