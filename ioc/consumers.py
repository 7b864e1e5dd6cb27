"""`/ws/live/`: pushes live messages to logged-in screens, for the groups of their scope."""

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from ioc import bus
from ioc.scope import scope_for

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NO_SCOPE = 4403


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        scope = await database_sync_to_async(scope_for)(user)
        if scope.is_empty:
            await self.close(code=CLOSE_NO_SCOPE)
            return
        # Messages go to a unit's group and every ancestor's, so one group covers the whole subtree.
        self.live_group = bus.ALL_GROUP if scope.everything else bus.unit_group(scope.unit.code)
        await self.channel_layer.group_add(self.live_group, self.channel_name)
        # The user's own group: signing out everywhere or deactivating the account closes this socket.
        self.user_group = bus.user_group(user.pk)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "ioc.hello", "scope": scope.label})

    async def disconnect(self, code):
        for name in ("live_group", "user_group"):
            group = getattr(self, name, None)
            if group:
                await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # Screens ping to keep NAT and proxies from closing an idle socket.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def dispatch(self, message):
        # Channels closes stale database connections before every handler, through a thread hop: for
        # text that only goes out on the socket that hop was most of the fan-out's cost (200 screens x
        # every message). Sending it touches no database, so it skips the hop; everything else does not.
        if message["type"] == "live.text":
            await self.live_text(message)
            return
        await super().dispatch(message)

    async def live_text(self, event):
        # Encoded once by the bus for every socket (bus.layer_message): sent as it is.
        await self.send(text_data=event["text"])

    async def live_session_ended(self, event):
        # The screen reloads on 4401 and meets the login page: its session is gone.
        await self.close(code=CLOSE_UNAUTHENTICATED)
