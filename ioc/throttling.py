"""API throttles keyed on the one client address (ioc.clientaddr), and citizens' device allowances.

DRF's own throttles key anonymous callers on a raw X-Forwarded-For, which any caller can change;
every throttle of the project comes from here instead. See docs/security.md.
"""

import secrets

from django.core import signing
from django.core.cache import cache
from rest_framework import throttling
from rest_framework.settings import api_settings

from ioc.clientaddr import client_address

DEVICE_COOKIE = "ioc_device"
DEVICE_HEADER = "X-IOC-Device"
DEVICE_COOKIE_AGE = 400 * 24 * 3600  # the longest lifetime browsers keep
_DEVICE_SALT = "ioc.device"


class ClientAddressMixin:
    def get_ident(self, request):
        return client_address(request)


class AnonRateThrottle(ClientAddressMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientAddressMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(ClientAddressMixin, throttling.ScopedRateThrottle):
    pass


# --- devices --------------------------------------------------------------------------------


def device_token_issue() -> str:
    """A new device token: a random id, signed, so a client cannot choose or forge one."""
    return signing.Signer(salt=_DEVICE_SALT).sign(secrets.token_urlsafe(12))


def device_id(request) -> str | None:
    """The device of this request (header, else cookie), or None without a valid token."""
    token = request.headers.get(DEVICE_HEADER) or request.COOKIES.get(DEVICE_COOKIE) or ""
    try:
        return signing.Signer(salt=_DEVICE_SALT).unsign(token.strip()[:200])
    except signing.BadSignature:
        return None


def device_cookie_set(request, response) -> None:
    """Give a browser without a valid device cookie one (pages that lead to a submission)."""
    if request.COOKIES.get(DEVICE_COOKIE) and device_id(request) is not None:
        return
    response.set_cookie(
        DEVICE_COOKIE,
        device_token_issue(),
        max_age=DEVICE_COOKIE_AGE,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


# --- submissions ------------------------------------------------------------------------------


def _parse_rate(rate: str | None) -> tuple[int, int] | None:
    if rate is None:
        return None
    number, period = rate.split("/")
    return int(number), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]


class SubmissionThrottle(throttling.BaseThrottle):
    """Anonymous submissions counted per device under a per-address ceiling.

    Rates (DEFAULT_THROTTLE_RATES, read on every request): `<scope>` per device token or signed-in
    caller; `<scope>_address`, the ceiling for all anonymous submissions from one address (a commune
    office or a carrier puts many citizens behind one); `<scope>_no_device`, per address for clients
    without a device token. A refused request counts against nothing.
    """

    scope = ""
    cache_format = "throttle_%(scope)s_%(ident)s"
    timer = throttling.SimpleRateThrottle.timer

    def buckets(self, request) -> list[tuple[str, str]]:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return [(f"user-{user.pk}", self.scope)]
        address = client_address(request)
        device = device_id(request)
        own = (f"device-{device}", self.scope) if device else (f"nodevice-{address}", f"{self.scope}_no_device")
        return [own, (f"address-{address}", f"{self.scope}_address")]

    def allow_request(self, request, view):
        rates = api_settings.DEFAULT_THROTTLE_RATES
        now = self.timer()
        self._wait = None
        buckets = []
        for ident, scope in self.buckets(request):
            parsed = _parse_rate(rates.get(scope))
            if parsed is not None:
                buckets.append((self.cache_format % {"scope": scope, "ident": ident}, *parsed))
        # Every bucket in one round trip each way: this runs on every submission.
        histories = cache.get_many([key for key, _limit, _duration in buckets])
        counted = []
        for key, limit, duration in buckets:
            history = [moment for moment in histories.get(key, []) if moment > now - duration]
            if len(history) >= limit:
                # The moment enough of the window has passed for one more.
                oldest_needed = history[limit - 1] if limit else now
                wait = max(1.0, duration - (now - oldest_needed))
                self._wait = max(self._wait or 0, wait)
            counted.append((key, history, duration))
        if self._wait is not None:
            return False
        for duration in {duration for _key, _history, duration in counted}:
            cache.set_many({key: [now, *history] for key, history, d in counted if d == duration}, duration)
        return True

    def wait(self):
        return self._wait
