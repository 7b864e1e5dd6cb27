from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from ioc import audit, screens, services
from ioc.models import (
    Alert,
    ApiKey,
    AuditEntry,
    CalendarDay,
    Directive,
    Notification,
    Unit,
    User,
    WallPlaylist,
    WallScreen,
)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "boundary_source"]
    list_filter = ["kind", "boundary_source"]
    search_fields = ["code", "name", "name_en"]
    raw_id_fields = ["parent"]

    def save_model(self, request, obj, form, change):
        # Through the service, so the materialized paths of the subtree stay right.
        fields = {f: getattr(obj, f) for f in ("name_en", "latitude", "longitude")}
        saved = services.unit_upsert(code=obj.code, name=obj.name, kind=obj.kind, parent=obj.parent, **fields)
        obj.pk = saved.pk


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + ((_("Operations center"), {"fields": ["home_unit"]}),)
    list_display = ["username", "first_name", "home_unit", "is_active"]
    list_filter = ["groups", "is_active"]
    raw_id_fields = ["home_unit"]
    actions = ["sign_out_screens"]

    # A wall screen stays signed in for weeks (ioc.screens): this is how it is ended at once, without
    # changing its password. Deactivating the account ends it too.
    @admin.action(description=_("Sign out this screen everywhere"))
    def sign_out_screens(self, request, queryset):
        users = list(queryset)
        signed_out = [user for user in users if screens.is_screen(user)]
        for user in signed_out:
            services.screen_sign_out(user=user)
        if signed_out:
            names = ", ".join(user.get_username() for user in signed_out)
            messages.success(
                request,
                _("Signed out everywhere: %(names)s. Their walls show the login page within a minute.")
                % {"names": names},
            )
        if len(signed_out) < len(users):
            messages.warning(
                request, _("Only wall screen accounts are signed out this way; the others were left as they are.")
            )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "unit", "scopes", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["name", "unit", "scopes", "prefix", "created_at", "last_used_at", "revoked_at"]
    raw_id_fields = ["unit"]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        key, plain = services.api_key_create(name=obj.name, scopes=obj.scopes, unit=obj.unit, created_by=request.user)
        obj.pk = key.pk
        messages.warning(request, _("Copy this key now; it is not shown again: %(key)s") % {"key": plain})

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for key in queryset:
            services.api_key_revoke(key=key)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["title", "subsystem", "severity", "state", "unit", "count", "last_seen_at"]
    list_filter = ["state", "severity", "subsystem"]
    search_fields = ["title", "dedup_key"]
    readonly_fields = [f.name for f in Alert._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Directive)
class DirectiveAdmin(admin.ModelAdmin):
    """Read-only: directives are given on their item and marked done in the unit's workspace."""

    list_display = ["subject_label", "owner", "issued_at", "due_at", "done_at"]
    list_filter = [("done_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject_label", "text"]
    readonly_fields = [f.name for f in Directive._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "note"]
    list_filter = ["kind"]
    date_hierarchy = "date"


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "recipient", "subject", "sent_at", "attempts"]
    list_filter = ["channel"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False

    # A message to a citizen shows their phone or email: reading it goes into the audit log.
    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        citizens = sum(1 for n in changelist.result_list if n.user_id is None) if changelist else 0
        if citizens:
            audit.contacts_read(obj=Notification, count=citizens)
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.user_id is None:
            audit.contacts_read(obj=obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log, read-only: nobody adds, changes or deletes an entry (the database refuses too)."""

    list_display = [
        "at",
        "actor_label",
        "kind",
        "action",
        "object_type",
        "object_label",
        "count",
        "unit_code",
        "client_address",
    ]
    list_filter = [
        "kind",
        "action",
        "object_type",
        ("user", admin.RelatedOnlyFieldListFilter),
        ("api_key", admin.RelatedOnlyFieldListFilter),
        ("unit", admin.RelatedOnlyFieldListFilter),
        "at",
    ]
    search_fields = ["actor_label", "object_id", "object_label", "unit_code", "client_address"]
    date_hierarchy = "at"
    list_select_related = False
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    show_full_result_count = False  # no count(*) over a long history on every page

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class WallScreenForm(forms.ModelForm):
    """A screen is chosen from those the wall can show, never typed."""

    class Meta:
        model = WallScreen
        fields = ["position", "screen", "seconds"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from ioc.selectors import wall_screens

        self.fields["screen"] = forms.ChoiceField(
            label=_("screen"), choices=[(s["code"], s["name"]) for s in wall_screens()]
        )
        self.fields["seconds"].min_value = 5
        self.fields["seconds"].max_value = 3600


class WallScreenInline(admin.TabularInline):
    model = WallScreen
    form = WallScreenForm
    extra = 1


@admin.register(WallPlaylist)
class WallPlaylistAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "page_seconds", "updated_at"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [WallScreenInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        audit.record(action="wall.playlist.saved", obj=form.instance, unit=None)
