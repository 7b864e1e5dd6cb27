from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from ioc import bus, registry
from ioc.models import WorkerHeartbeat
from ioc.roles import ADMIN, LEADER, has_role


@login_required
def home(request):
    """Send each person to the screen of their role."""
    if has_role(request.user, LEADER, ADMIN):
        return redirect("wall")
    return render(request, "ioc/home.html", {"subsystems": registry.enabled()})


@never_cache
@login_required
def wall(request):
    return render(
        request,
        "ioc/wall.html",
        {"subsystems": registry.enabled(), "map_tiles_url": settings.IOC_MAP_TILES_URL},
    )


def healthz(request):
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    """Readiness: the database and Redis both answer."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)
        )
        client.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {exc.__class__.__name__}"
    beat = WorkerHeartbeat.objects.filter(name="worker").first() if checks["database"] == "ok" else None
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {
            "status": "ok" if ready else "unavailable",
            "checks": checks,
            "worker_last_beat": beat.beat_at.isoformat() if beat else None,
            "live_bus": dict(bus.stats),
        },
        status=200 if ready else 503,
    )
