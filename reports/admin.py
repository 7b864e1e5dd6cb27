from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ioc import audit, jobs
from reports import selectors, services
from reports.models import Category, CategoryGroup, DeadlinePolicy, Report, ReportEvent, TriageModel


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
    search_fields = ["name", "code", "keywords"]
    inlines = [PolicyInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.forget_triage_model()  # edited keywords serve this process's next suggestion


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


@admin.register(TriageModel)
class TriageModelAdmin(admin.ModelAdmin):
    """The triage models and whether suggestions help: the figures per week and per category above
    the list of models, each with its held-out figures; a button trains one now."""

    change_list_template = "admin/reports/triagemodel/change_list.html"
    list_display = ["__str__", "trained_at", "reports", "seconds", "held_out_top1", "rules_top1", "beats_baselines"]
    readonly_fields = ["trained_at", "reports", "seconds", "metrics", "beats_baselines"]
    exclude = ["blob"]

    @admin.display(description=gettext_lazy("category top-1 (held out)"))
    def held_out_top1(self, obj):
        return _percent((obj.metrics.get("model") or {}).get("category_top1"))

    @admin.display(description=gettext_lazy("keyword rules top-1"))
    def rules_top1(self, obj):
        return _percent((obj.metrics.get("rules") or {}).get("category_top1"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        train = path("train/", self.admin_site.admin_view(self.train_now), name="reports_triagemodel_train")
        return [train, *super().get_urls()]

    def train_now(self, request):
        if request.method != "POST" or not self.has_view_permission(request):
            return redirect("admin:reports_triagemodel_changelist")
        jobs.send_now("reports.tasks.triage_train")
        self.message_user(request, _("Training queued: the new model appears here in a minute."), messages.INFO)
        return redirect("admin:reports_triagemodel_changelist")

    def changelist_view(self, request, extra_context=None):
        figures = selectors.triage_figures()
        for row in [*figures["weeks"], *figures["categories"], figures["total"]]:
            for key in ("shown", "acceptance", "category", "category_when_shown", "level", "unit"):
                row[key + "_pct"] = _percent(row[key])
        return super().changelist_view(request, {**(extra_context or {}), "triage": figures})


def _percent(value) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"
