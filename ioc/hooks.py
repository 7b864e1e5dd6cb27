"""What one app stores that another app acts on, without either importing the other.

The app that stores something announces it by name inside its transaction (`emit`); an app that
cares registers a listener in its AppConfig.ready() (`listen`). Listeners run in the emitter's
transaction, so what they write commits or rolls back with it. Names are "<app>.<what happened>".
"""

from collections import defaultdict
from collections.abc import Callable

_listeners: dict[str, list[Callable]] = defaultdict(list)

# traffic: camera events were stored (`events`: the new CameraEvent rows); onestop watches its
# counter cameras in them.
CAMERA_EVENTS_STORED = "traffic.camera_events_stored"


def listen(name: str, listener: Callable) -> None:
    if listener not in _listeners[name]:
        _listeners[name].append(listener)


def emit(name: str, **payload) -> None:
    for listener in _listeners.get(name, ()):
        listener(**payload)
