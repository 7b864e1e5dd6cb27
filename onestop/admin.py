from django.contrib import admin

from onestop.models import Counter, Dossier, DossierStatusChange, DossierSupplement, Office, Procedure


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "active"]
    list_filter = ["active"]
    search_fields = ["name", "unit__code", "unit__name"]
    raw_id_fields = ["unit"]


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "field", "duration_days", "has_fees", "active"]
    list_filter = ["field", "has_fees", "active"]
    search_fields = ["code", "name"]


@admin.register(Counter)
class CounterAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "office", "staff_on_duty", "camera", "waiting", "figures_at", "active"]
    list_filter = ["active", "office"]
    search_fields = ["code", "name", "staff_on_duty"]
    raw_id_fields = ["camera"]


class SupplementInline(admin.TabularInline):
    model = DossierSupplement
    extra = 0
    can_delete = False
    readonly_fields = ["number", "requested_at", "supplied_at"]


class HistoryInline(admin.TabularInline):
    model = DossierStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["status", "at", "recorded_at"]


@admin.register(Dossier)
class DossierAdmin(admin.ModelAdmin):
    """Read-only: dossiers are the one-stop software's, synced through the API or the import command."""

    list_display = ["code", "procedure", "unit", "status", "channel", "received_at", "due_at", "finished_at"]
    list_filter = ["status", "channel", "procedure__field"]
    search_fields = ["code"]
    date_hierarchy = "received_at"
    inlines = [SupplementInline, HistoryInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
