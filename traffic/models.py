"""The camera platform: cameras of every purpose, their events, and the incidents events fold into."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ioc.models import Severity, Unit, User


class Purpose(models.TextChoices):
    TRAFFIC = "traffic", _("Traffic")
    SECURITY = "security", _("Security")
    COUNTER = "counter", _("One-stop counter")


class Camera(models.Model):
    class Health(models.TextChoices):
        ONLINE = "online", _("Online")
        OFFLINE = "offline", _("Offline")
        TAMPERED = "tampered", _("Tampered")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="cameras")
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    road = models.CharField(_("road"), max_length=100, blank=True)
    vendor = models.CharField(_("vendor"), max_length=100, blank=True)
    stream_url = models.URLField(_("stream URL"), max_length=500, blank=True)
    snapshot_url = models.URLField(_("snapshot URL"), max_length=500, blank=True)
    health = models.CharField(_("status"), max_length=10, choices=Health.choices, default=Health.OFFLINE)
    last_heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    last_event_at = models.DateTimeField(_("last event"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    offline_after_minutes = models.PositiveSmallIntegerField(
        _("offline after (minutes of silence)"),
        null=True,
        blank=True,
        help_text=_("Empty: the deployment's default."),
    )

    class Meta:
        verbose_name = _("camera")
        verbose_name_plural = _("cameras")
        ordering = ["code"]
        indexes = [models.Index(fields=["purpose", "health"], name="camera_purpose_health")]

    def __str__(self):
        return f"{self.code} · {self.name}"


class EventKind(models.Model):
    """What a camera can report, with its default severity (configurable by an administrator)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    purpose = models.CharField(_("purpose"), max_length=10, choices=[*Purpose.choices, ("health", _("Health"))])
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.INFO)
    is_violation = models.BooleanField(_("traffic violation"), default=False)
    fold_seconds = models.PositiveIntegerField(
        _("fold repeats within (seconds)"),
        default=300,
        help_text=_("Repeats of this kind from one camera within this window count onto one open incident."),
    )

    class Meta:
        verbose_name = _("event kind")
        verbose_name_plural = _("event kinds")
        ordering = ["purpose", "code"]

    def __str__(self):
        return self.name


class CongestionLevel(models.TextChoices):
    """DATEX II levels by the share of free-flow speed."""

    FREE = "free", _("Free flow")
    HEAVY = "heavy", _("Heavy")  # 75-90 %
    SLOW = "slow", _("Slow")  # 25-75 %
    QUEUING = "queuing", _("Queuing")  # 10-25 %
    STATIONARY = "stationary", _("Stationary")  # under 10 %


class Incident(models.Model):
    """An operator's item: one or more events of one kind from one camera, folded together."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        DISPATCHED = "dispatched", _("Dispatched")
        RESOLVED = "resolved", _("Resolved")
        FALSE_ALARM = "false_alarm", _("False alarm")

    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="incidents")
    kind = models.ForeignKey(EventKind, on_delete=models.PROTECT, related_name="incidents")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="camera_incidents")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    first_event_at = models.DateTimeField(_("first event"))
    last_event_at = models.DateTimeField(_("last event"))
    event_count = models.PositiveIntegerField(_("events"), default=1)
    congestion_level = models.CharField(max_length=10, choices=CongestionLevel.choices, blank=True)
    dispatched_to = models.ForeignKey(
        Unit, verbose_name=_("dispatched to"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    acknowledged_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    OPEN = (Status.NEW, Status.ACKNOWLEDGED, Status.DISPATCHED)

    class Meta:
        verbose_name = _("camera incident")
        verbose_name_plural = _("camera incidents")
        ordering = ["-last_event_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["camera", "kind"],
                condition=Q(status__in=["new", "acknowledged", "dispatched"]),
                name="one_open_incident_per_camera_kind",
            )
        ]
        indexes = [models.Index(fields=["status", "last_event_at"], name="incident_status_last")]

    def __str__(self):
        return f"{self.kind} @ {self.camera.code}"


def snapshot_path(event, filename):
    return f"cameras/{event.camera.code}/{event.occurred_at:%Y/%m/%d}/{filename}"


class CameraEvent(models.Model):
    # camera and kind are found through the (camera, occurred_at) and (kind, occurred_at) indexes, and
    # the incident through a partial index (most events fold into none): each index less is less to
    # write for every one of millions of rows.
    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="events", db_index=False)
    kind = models.ForeignKey(EventKind, on_delete=models.PROTECT, related_name="events", db_index=False)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")  # the camera's, kept for scope
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="events", db_index=False
    )
    source = models.CharField(_("source"), max_length=100)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    received_at = models.DateTimeField(_("received at"))
    plate = models.CharField(_("licence plate"), max_length=20, blank=True)
    speed_kmh = models.FloatField(_("speed (km/h)"), null=True, blank=True)
    vehicle_count = models.PositiveIntegerField(_("vehicles"), null=True, blank=True)
    congestion_level = models.CharField(max_length=10, choices=CongestionLevel.choices, blank=True)
    score = models.FloatField(null=True, blank=True)
    zone = models.CharField(max_length=100, blank=True)
    snapshot_url = models.URLField(max_length=500, blank=True)
    snapshot = models.ImageField(upload_to=snapshot_path, blank=True)
    # A video clip of the event on the vendor's recorder, when it keeps one (Frigate does).
    clip_url = models.URLField(_("clip URL"), max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("camera event")
        verbose_name_plural = _("camera events")
        ordering = ["-occurred_at"]
        # The table is partitioned by month of occurred_at (ioc.partitions, docs/partitions.md): every
        # unique key holds occurred_at, and the primary key in the database is (id, occurred_at). A
        # vendor's resend of an event carries its time, so (source, external_id, occurred_at) still
        # tells a resend from a new event.
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id", "occurred_at"],
                condition=~Q(external_id=""),
                name="camera_event_once_per_source_time",
            )
        ]
        indexes = [
            models.Index(fields=["kind", "occurred_at"], name="camera_event_kind_time"),
            models.Index(fields=["camera", "occurred_at"], name="camera_event_camera_time"),
            models.Index(fields=["incident"], condition=Q(incident__isnull=False), name="camera_event_incident"),
        ]

    def __str__(self):
        return f"{self.kind_id} @ {self.camera_id} {self.occurred_at:%H:%M:%S}"


class CameraEventDaily(models.Model):
    """One local day of one camera's events of one kind, kept after the month's events are dropped
    (IOC_CAMERA_EVENT_RETENTION_MONTHS): what a year's charts and the yearly figures need."""

    day = models.DateField(_("day"))
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="+")
    kind = models.ForeignKey(EventKind, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")  # the events' own, for scope
    count = models.PositiveIntegerField(_("events"))
    vehicles = models.BigIntegerField(_("vehicles"), default=0)  # sum of vehicle_count
    speed_sum = models.FloatField(default=0)  # with speed_count: an average that adds up across days
    speed_count = models.PositiveIntegerField(default=0)
    speed_max = models.FloatField(null=True, blank=True)
    plates = models.PositiveIntegerField(_("events with a plate"), default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        verbose_name = _("camera events of a day")
        verbose_name_plural = _("camera events by day")
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["day", "camera", "kind"], name="camera_event_daily_once")]
        indexes = [models.Index(fields=["unit", "day"], name="camera_event_daily_unit_day")]

    def __str__(self):
        return f"{self.day} {self.camera_id} {self.kind_id}: {self.count}"

    @property
    def avg_speed_kmh(self) -> float | None:
        return self.speed_sum / self.speed_count if self.speed_count else None
