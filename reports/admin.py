from django.contrib import admin

from ioc import audit
from reports.models import Category, CategoryGroup, DeadlinePolicy, Report, ReportEvent


class PolicyInline(admin.TabularInline):
    model = DeadlinePolicy
    extra = 0


@admin.register(CategoryGroup)
class CategoryGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "order"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "group", "department", "default_level", "allow_anonymous", "active"]
    list_filter = ["group", "default_level", "active"]
    search_fields = ["name", "code"]
    inlines = [PolicyInline]


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "response_amount", "response_unit", "resolution_amount", "resolution_unit"]
    list_filter = ["level"]


class EventInline(admin.TabularInline):
    model = ReportEvent
    extra = 0
    can_delete = False
    fields = ["at", "action", "actor_label", "unit", "note", "public"]
    readonly_fields = fields


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Read-only here: every change of a report goes through its workflow (console and API)."""

    list_display = ["tracking_code", "category", "level", "status", "unit", "assigned_unit", "received_at"]
    list_filter = ["status", "level", "category"]
    search_fields = ["tracking_code", "description", "address"]
    inlines = [EventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The page shows the reporter's name, phone and email: that read goes into the audit log.
        if obj is not None and (obj.reporter_name or obj.reporter_phone or obj.reporter_email):
            audit.contacts_read(obj=obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
