from django.contrib import admin

from traffic.models import Camera, EventKind, Incident


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "purpose", "unit", "health", "last_heartbeat_at", "active"]
    list_filter = ["purpose", "health", "active"]
    search_fields = ["code", "name", "road"]
    raw_id_fields = ["unit"]
    readonly_fields = ["health", "last_heartbeat_at", "last_event_at"]


@admin.register(EventKind)
class EventKindAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "purpose", "severity", "is_violation", "fold_seconds"]
    list_filter = ["purpose", "severity"]
    list_editable = ["severity", "fold_seconds"]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Read-only here: operators work incidents from the console."""

    list_display = ["kind", "camera", "status", "severity", "event_count", "last_event_at"]
    list_filter = ["status", "severity", "kind"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
