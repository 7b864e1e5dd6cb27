from django.contrib import admin

from indicators.models import (
    Indicator,
    IndicatorSource,
    IndicatorSubsystem,
    IndicatorTarget,
    Observation,
    ObservationRevision,
    PullSource,
    Station,
)


class TargetInline(admin.TabularInline):
    model = IndicatorTarget
    extra = 0
    raw_id_fields = ["unit"]


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "subsystem",
        "unit_of_measure",
        "period",
        "direction",
        "warning_threshold",
        "critical_threshold",
        "on_wall",
        "active",
    ]
    list_filter = ["subsystem", "period", "direction", "on_wall", "active"]
    list_editable = ["warning_threshold", "critical_threshold", "on_wall"]
    search_fields = ["code", "name", "name_en"]
    inlines = [TargetInline]


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "unit", "latitude", "longitude", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["unit"]


class RevisionInline(admin.TabularInline):
    model = ObservationRevision
    extra = 0
    can_delete = False
    readonly_fields = ["value", "source", "received_at", "replaced_at", "replaced_by_source"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Observation)
class ObservationAdmin(admin.ModelAdmin):
    """Read-only here: values arrive through the API, imports and pull sources, which keep the history."""

    list_display = ["indicator", "unit", "station", "period_start", "value", "status", "source", "revisions"]
    list_filter = ["indicator__subsystem", "status", "period"]
    search_fields = ["indicator__code", "unit__code", "station__code"]
    date_hierarchy = "period_start"
    inlines = [RevisionInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(IndicatorSource)
class IndicatorSourceAdmin(admin.ModelAdmin):
    list_display = ["api_key", "subsystems", "note"]
    raw_id_fields = ["api_key"]


@admin.register(PullSource)
class PullSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "format", "url", "unit", "schedule_minutes", "active", "last_run_at", "last_status"]
    list_filter = ["format", "active", "last_status"]
    raw_id_fields = ["unit"]
    readonly_fields = ["last_run_at", "last_status", "last_message"]


@admin.register(IndicatorSubsystem)
class IndicatorSubsystemAdmin(admin.ModelAdmin):
    """A new row here is a new subsystem on the wall, in the snapshot API and in the registry."""

    list_display = ["code", "name", "name_en", "order", "active"]
    list_editable = ["order", "active"]

    def save_model(self, request, obj, form, change):
        from ioc import registry

        super().save_model(request, obj, form, change)
        registry.invalidate()

    def delete_model(self, request, obj):
        from ioc import registry

        super().delete_model(request, obj)
        registry.invalidate()
