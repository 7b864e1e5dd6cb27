from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BoundarySource(models.TextChoices):
    NONE = "", _("No boundary")
    APPROXIMATE = "approximate", _("Approximate (demo)")
    IMPORTED = "imported", _("Imported")


class Unit(models.Model):
    """An administrative unit (province, district, commune/ward) or a department.

    `path` is the chain of codes from the root, e.g. "/75/26080/", so "this unit and
    everything below" is one indexed prefix filter (see ioc.scope).
    """

    class Kind(models.TextChoices):
        PROVINCE = "province", _("Province / city")
        DISTRICT = "district", _("District")
        WARD = "ward", _("Ward")
        COMMUNE = "commune", _("Commune")
        SPECIAL_ZONE = "special_zone", _("Special zone")
        DEPARTMENT = "department", _("Department")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=512, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    # Optional GeoJSON Polygon/MultiPolygon (lon, lat) with its bounding box for a cheap prefilter.
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    bbox = ArrayField(models.FloatField(), size=4, null=True, blank=True, editable=False)
    # Where the boundary came from: a demo cell drawn from the unit centres is only approximate, and the
    # map says so; one imported from a surveyed file is not (docs/map.md).
    boundary_source = models.CharField(
        _("boundary source"), max_length=12, choices=BoundarySource.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["path"]
        indexes = [models.Index(fields=["path"], name="unit_path_prefix", opclasses=["varchar_pattern_ops"])]

    def __str__(self):
        return self.name

    @property
    def is_department(self) -> bool:
        return self.kind == self.Kind.DEPARTMENT

    def ancestor_codes(self) -> list[str]:
        """Codes from the root down to this unit, itself included."""
        return [code for code in self.path.split("/") if code]


class User(AbstractUser):
    """A person who logs in. Roles are Django groups (see ioc.roles); the home unit bounds what they see."""

    home_unit = models.ForeignKey(
        Unit, verbose_name=_("home unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class ApiKey(models.Model):
    """A machine's credential: the secret is shown once and only its SHA-256 is kept."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = ArrayField(models.CharField(max_length=64), verbose_name=_("allowed actions"), default=list)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="api_keys")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class Alert(models.Model):
    """One entry of the alert stream shared by every subsystem.

    A repeat of an alert that is not resolved yet (same dedup key) bumps `count` instead of
    adding a row; once resolved, the same key opens a new alert.
    """

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    subsystem = models.CharField(_("subsystem"), max_length=32, db_index=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    title = models.CharField(_("title"), max_length=300)
    detail = models.TextField(_("detail"), blank=True)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="alerts")
    subject_type = models.CharField(_("about (type)"), max_length=64, blank=True)
    subject_id = models.CharField(_("about (id)"), max_length=64, blank=True)
    dedup_key = models.CharField(_("deduplication key"), max_length=200)
    # Whose dedup keys these are: "" for the subsystems themselves, "key:<id>" or "user:<id>" for an
    # alert raised through the API. A repeat only ever matches an alert of the same raiser and unit.
    raised_by = models.CharField(_("raised by"), max_length=40, blank=True, default="")
    count = models.PositiveIntegerField(_("occurrences"), default=1)
    state = models.CharField(_("state"), max_length=15, choices=State.choices, default=State.OPEN)
    first_seen_at = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"))
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolution_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["raised_by", "unit", "dedup_key"],
                condition=~Q(state="resolved"),
                name="alert_one_unresolved_per_raiser_unit_key",
            )
        ]
        indexes = [models.Index(fields=["state", "severity"], name="alert_state_severity")]

    def __str__(self):
        return self.title


class WorkerHeartbeat(models.Model):
    """Last sign of life from background workers, written by a periodic task."""

    name = models.CharField(max_length=100, unique=True)
    beat_at = models.DateTimeField()
    hostname = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class CalendarDay(models.Model):
    """An exception to the working calendar that an administrator enters.

    Vietnam's public holidays, and the make-up Saturdays the `holidays` package knows, need no
    row; rows here add days off (e.g. an extended Tết break) or make-up working days.
    """

    class Kind(models.TextChoices):
        DAY_OFF = "day_off", _("Day off")
        WORKING_DAY = "working_day", _("Make-up working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%d/%m/%Y} {self.get_kind_display()}"


class Notification(models.Model):
    """An outgoing email or text message, written in the same transaction as the change it tells of.

    A worker sends it; if Redis or the worker is down it waits here and the next sweep sends it.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("Text message")

    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications")
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="notification_pending", condition=Q(sent_at=None))]

    def __str__(self):
        return f"{self.channel} → {self.recipient}: {self.subject}"


class AuditEntry(models.Model):
    """One write by a person or an API key, or one read of a reporter's contact details. Append-only.

    The object is named in text (type, id, label), never by a foreign key, so the entry outlives it;
    the caller and the unit keep a text label beside a SET_NULL key for the same reason.
    """

    class Kind(models.TextChoices):
        WRITE = "write", _("Write")
        CONTACTS_READ = "contacts_read", _("Contacts read")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.WRITE)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    user = models.ForeignKey(
        User, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey(
        ApiKey, verbose_name=_("API key"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("who"), max_length=150)
    object_type = models.CharField(_("object type"), max_length=100, blank=True, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_label = models.CharField(_("object"), max_length=300, blank=True)
    count = models.PositiveIntegerField(_("count"), default=1)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    unit_code = models.CharField(_("unit code"), max_length=32, blank=True)
    unit_name = models.CharField(_("unit name"), max_length=200, blank=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    method = models.CharField(_("method"), max_length=8, blank=True)
    path = models.CharField(_("path"), max_length=500, blank=True)
    view = models.CharField(_("view"), max_length=200, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self):
        return f"{self.actor_label} {self.action} {self.object_label}".strip()


class WallPlaylist(models.Model):
    """What one wall shows, in turn: `/wall/?playlist=<slug>`. Several walls in a centre, several lists."""

    slug = models.SlugField(_("name in the address"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    page_seconds = models.PositiveSmallIntegerField(
        _("seconds per page of a panel"), default=8, help_text=_("A panel with more than fits turns its pages.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("wall playlist")
        verbose_name_plural = _("wall playlists")

    def __str__(self):
        return self.name


class WallScreen(models.Model):
    """One screen of a playlist: the overview or one subsystem's own screen, for so many seconds."""

    OVERVIEW = "overview"

    playlist = models.ForeignKey(WallPlaylist, on_delete=models.CASCADE, related_name="screens")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    screen = models.CharField(_("screen"), max_length=40, help_text=_("“overview” or a subsystem's code."))
    seconds = models.PositiveSmallIntegerField(_("seconds on screen"), default=30)

    class Meta:
        ordering = ["playlist", "position", "pk"]
        verbose_name = _("screen")
        verbose_name_plural = _("screens")
        constraints = [
            models.CheckConstraint(condition=Q(seconds__gte=5) & Q(seconds__lte=3600), name="wallscreen_seconds_range")
        ]

    def __str__(self):
        return f"{self.screen} ({self.seconds} s)"


class Export(models.Model):
    """A staff list written to CSV or XLSX for one person: made by a worker when it is large, kept for
    download a while (docs/briefings.md)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being written")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    uid = models.CharField(max_length=32, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="exports")
    list_name = models.CharField(_("list"), max_length=40)  # the registered list, e.g. "reports"
    params = models.JSONField(_("filters"), default=dict)
    format = models.CharField(max_length=4)  # "csv" or "xlsx"
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self):
        return f"{self.list_name}.{self.format} ({self.status})"


class Directive(models.Model):
    """A leader's directive (ý kiến chỉ đạo) on an item of any subsystem: what to do, by when, and the
    unit that owns it. The item is named by its app (`subject_type`, e.g. "reports.report") and id, so
    that the core knows no subsystem."""

    subject_type = models.CharField(max_length=40)
    subject_id = models.CharField(max_length=64)
    subject_label = models.CharField(_("item"), max_length=200)
    text = models.TextField(_("directive"), max_length=2000)
    owner = models.ForeignKey(Unit, verbose_name=_("owner unit"), on_delete=models.PROTECT, related_name="directives")
    issued_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField(_("issued at"))
    due_at = models.DateTimeField(_("due"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_note = models.TextField(_("what was done"), blank=True, max_length=2000)
    done_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("directive")
        verbose_name_plural = _("directives")
        indexes = [
            models.Index(fields=["owner", "due_at"], name="directive_open", condition=Q(done_at=None)),
            models.Index(fields=["subject_type", "subject_id"], name="directive_subject"),
        ]

    def __str__(self):
        return f"{self.subject_label}: {self.text[:40]}"


class Period(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


class BriefingSubscription(models.Model):
    """A leader receives a unit's briefing by e-mail: daily at 07:00, or weekly on Monday at 07:00 (local)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="briefing_subscriptions")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(_("period"), max_length=8, choices=Period.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("briefing subscription")
        verbose_name_plural = _("briefing subscriptions")
        constraints = [models.UniqueConstraint(fields=["user", "unit", "period"], name="one_subscription_each")]

    def __str__(self):
        return f"{self.user} ← {self.unit} {self.period}"


class Briefing(models.Model):
    """A generated briefing (giao ban) of a unit for a period, kept as PDF: the last ones stay downloadable."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=8, choices=Period.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    generated_at = models.DateTimeField()
    seconds = models.FloatField(default=0)
    pdf = models.FileField(upload_to="briefings/%Y/%m/")
    pages = models.PositiveSmallIntegerField(default=0)
    sent_to = models.JSONField(default=list, editable=False)  # the subscribers already told, by user id

    class Meta:
        ordering = ["-ends_at", "-pk"]
        verbose_name = _("briefing")
        verbose_name_plural = _("briefings")
        constraints = [models.UniqueConstraint(fields=["unit", "period", "ends_at"], name="one_briefing_per_period")]

    def __str__(self):
        return f"{self.unit} {self.period} {self.ends_at:%Y-%m-%d}"

    @property
    def last_day(self):
        """The last day it covers (it ends at the next midnight)."""
        return timezone.localtime(self.ends_at - timedelta(seconds=1)).date()
