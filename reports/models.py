"""Field reports (phản ánh hiện trường): categories, deadline policies, reports and their timeline."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ioc.models import Unit
from ioc.worktime import DurationUnit


class Level(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    COMPLEX = "complex", _("Complex")
    NORMAL = "normal", _("Normal")


class Status(models.TextChoices):
    RECEIVED = "received", _("Received, awaiting triage")
    ACCEPTED = "accepted", _("Accepted")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    ANSWERED = "answered", _("Answered")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Duplicate")


# Statuses in which the report still waits for someone to act.
OPEN_STATUSES = (Status.RECEIVED, Status.ACCEPTED, Status.ASSIGNED, Status.IN_PROGRESS, Status.ANSWERED)
# Statuses in which the handling unit works on it.
WORKING_STATUSES = (Status.ASSIGNED, Status.IN_PROGRESS, Status.ANSWERED)
FINISHED_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.REJECTED, Status.DUPLICATE)
# A citizen may rate the answer once there is one, and reopen a finished report for a while.
RATABLE_STATUSES = (Status.ANSWERED, Status.RESOLVED, Status.CLOSED)
REOPENABLE_STATUSES = (Status.RESOLVED, Status.CLOSED)
# On-time answer shares (%) from which a unit is doing well, or fairly; below, poorly (wall and portal).
ON_TIME_GOOD, ON_TIME_FAIR = 90, 75

# The one rule of what the public may see (portal list and map, Open311, photos, the submit answer):
# reports an operator has triaged and not rejected. One awaiting triage (new or handed back) is not.
PUBLISHED_STATUSES = tuple(s for s in Status if s not in (Status.RECEIVED, Status.REJECTED))


class Channel(models.TextChoices):
    APP = "app", _("Mobile app")
    WEB = "web", _("Web portal")
    HOTLINE = "hotline", _("Hotline")
    OPEN311 = "open311", _("Open311 partner")


class CategoryGroup(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("category group")
        verbose_name_plural = _("category groups")
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


class Category(models.Model):
    code = models.SlugField(
        _("code"), max_length=40, unique=True, help_text=_("URL-safe; also the Open311 service code.")
    )
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    group = models.ForeignKey(
        CategoryGroup, verbose_name=_("group"), on_delete=models.PROTECT, related_name="categories"
    )
    department = models.ForeignKey(
        Unit,
        verbose_name=_("default handling department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="report_categories",
    )
    default_level = models.CharField(_("default level"), max_length=10, choices=Level.choices, default=Level.NORMAL)
    allow_anonymous = models.BooleanField(_("anonymous reports allowed"), default=True)
    keywords = models.TextField(
        _("keywords"),
        blank=True,
        help_text=_(
            "Words and phrases citizens use for this category, one per line or separated by commas; "
            "with or without diacritics. Triage suggests by them until a model learned from the "
            "operators' decisions does better."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["group__order", "order", "name"]

    def __str__(self):
        return self.name


class DeadlinePolicy(models.Model):
    """Response and resolution deadlines for a category and level (no category: the default for the level)."""

    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE, related_name="policies"
    )
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    response_amount = models.DecimalField(_("answer within"), max_digits=6, decimal_places=2)
    response_unit = models.CharField(_("unit"), max_length=15, choices=DurationUnit.choices)
    resolution_amount = models.DecimalField(_("resolve within"), max_digits=6, decimal_places=2)
    resolution_unit = models.CharField(_("unit"), max_length=15, choices=DurationUnit.choices)

    class Meta:
        verbose_name = _("deadline policy")
        verbose_name_plural = _("deadline policies")
        constraints = [
            models.UniqueConstraint(fields=["category", "level"], nulls_distinct=False, name="one_policy_per_level"),
            models.CheckConstraint(
                condition=Q(response_amount__gte=0) & Q(resolution_amount__gte=0), name="policy_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.category or _('Default')} / {self.get_level_display()}"


class Report(models.Model):
    tracking_code = models.CharField(_("tracking code"), max_length=20, unique=True)
    secret_hash = models.CharField(max_length=64, editable=False)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="reports")
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, default=Level.NORMAL)
    description = models.TextField(_("description"), max_length=4000)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("commune / ward"), on_delete=models.PROTECT, related_name="located_reports"
    )
    assigned_unit = models.ForeignKey(
        Unit,
        verbose_name=_("assigned unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_reports",
    )
    # The reporter's identity is kept confidential: never shown publicly or to other citizens.
    reporter_name = models.CharField(_("reporter's name"), max_length=120, blank=True)
    reporter_phone = models.CharField(_("reporter's phone"), max_length=20, blank=True)
    reporter_email = models.EmailField(_("reporter's email"), blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    # What the citizen (or the hotline operator) picked, kept when triage changes `category`: the
    # suggestion model learns how far a citizen's pick can be trusted.
    submitted_category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED)
    returned = models.BooleanField(_("handed back by a unit"), default=False)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )
    received_at = models.DateTimeField(_("received at"), db_index=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    first_answered_at = models.DateTimeField(_("first answered at"), null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    response_due_at = models.DateTimeField(_("answer due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    deadline_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    rating = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), null=True, blank=True)
    rating_comment = models.CharField(_("rating comment"), max_length=500, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    # Sweep claims: each warning is raised once per deadline (reset when deadlines are recomputed).
    response_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    response_overdue_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_overdue_at = models.DateTimeField(null=True, blank=True, editable=False)
    unassigned_alerted_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("field report")
        verbose_name_plural = _("field reports")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="report_status_received"),
            models.Index(fields=["category", "status"], name="report_category_status"),
            models.Index(fields=["latitude", "longitude"], name="report_location"),
            models.Index(fields=["resolution_due_at"], name="report_resolution_due", condition=Q(resolved_at=None)),
            # The open reports the wall counts on every snapshot (by status, overdue), read from the
            # index alone; a year's finished reports are left out of it.
            models.Index(
                fields=["status"],
                include=[
                    "id",
                    "level",
                    "unit",
                    "assigned_unit",
                    "received_at",
                    "first_answered_at",
                    "response_due_at",
                    "resolved_at",
                    "resolution_due_at",
                ],
                name="report_open_covering",
                condition=Q(status__in=["received", "accepted", "assigned", "in_progress", "answered"]),
            ),
            # The latest open urgent reports, newest first, without walking a year of reports.
            models.Index(
                fields=["received_at"],
                name="report_open_urgent",
                condition=Q(level="urgent", status__in=["received", "accepted", "assigned", "in_progress", "answered"]),
            ),
            # The recent windows (the wall's 7 and 30 days, the public on-time page's 30 and 90 days),
            # read from the index alone.
            models.Index(
                fields=["received_at"],
                include=["id", "status", "unit", "assigned_unit", "first_answered_at", "response_due_at"],
                name="report_received_covering",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(rating__range=(1, 5)), name="rating_1_to_5"),
        ]

    def __str__(self):
        return self.tracking_code

    def reopen_until(self, now=None):
        """Until when the citizen may reopen it (IOC_REPORTS_REOPEN_DAYS after it was finished), or None."""
        finished = self.resolved_at or self.closed_at
        if self.status not in REOPENABLE_STATUSES or finished is None:
            return None
        until = finished + timedelta(days=settings.IOC_REPORTS_REOPEN_DAYS)
        return until if (now or timezone.now()) <= until else None

    @property
    def is_triaged(self) -> bool:
        """Published: passed triage and not rejected (PUBLISHED_STATUSES)."""
        return self.status in PUBLISHED_STATUSES

    @property
    def handling_unit(self) -> Unit:
        return self.assigned_unit or self.unit


def photo_path(photo, filename):
    return f"reports/{photo.report.received_at:%Y/%m}/{photo.report.tracking_code}/{photo.uid}.{photo.extension}"


class ReportPhoto(models.Model):
    class Kind(models.TextChoices):
        REPORT = "report", _("From the reporter")
        ANSWER = "answer", _("With the answer")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    answer = models.ForeignKey("ReportAnswer", null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    uid = models.CharField(max_length=32, unique=True)
    extension = models.CharField(max_length=5)
    image = models.ImageField(upload_to=photo_path, width_field="width", height_field="height")
    thumbnail = models.ImageField(upload_to=photo_path, blank=True)
    width = models.PositiveIntegerField(null=True)
    height = models.PositiveIntegerField(null=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return self.uid

    @property
    def is_public(self) -> bool:
        """Photos become public once the report is triaged (never for a rejected report)."""
        return self.report.is_triaged


class ReportAnswer(models.Model):
    """A public answer to the citizen, by the handling unit."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="answers")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(max_length=4000)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.report} @ {self.at:%Y-%m-%d %H:%M}"


class ReportEvent(models.Model):
    """One step in a report's timeline: who did what, when, with a public or internal note."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        DUPLICATE = "duplicate", _("Marked as duplicate")
        ASSIGNED = "assigned", _("Assigned")
        REASSIGNED = "reassigned", _("Reassigned")
        HANDED_BACK = "handed_back", _("Handed back")
        STARTED = "started", _("Work started")
        ANSWERED = "answered", _("Answered")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")
        REOPENED = "reopened", _("Reopened")
        RATED = "rated", _("Rated")
        DIRECTIVE = "directive", _("Leader's directive")
        ESCALATED = "escalated", _("Escalated")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    action = models.CharField(max_length=12, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    note = models.TextField(blank=True)
    public = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["report", "at"], name="report_event_timeline")]

    def __str__(self):
        return f"{self.report} {self.action}"


class TriageModel(models.Model):
    """A suggestion model trained on the operators' decisions (reports.triage), with its held-out figures.

    It keeps words and numbers only (no reporter's identity). The newest one that beats the keyword
    rules and the most frequent answer on held-out reports serves the console.
    """

    trained_at = models.DateTimeField(_("trained at"))
    reports = models.PositiveIntegerField(_("reports learned from"))
    seconds = models.FloatField(_("training time (s)"))
    metrics = models.JSONField(_("held-out figures"), default=dict)
    beats_baselines = models.BooleanField(_("beats the rules"), default=False)
    blob = models.BinaryField(editable=False)

    class Meta:
        verbose_name = _("triage model")
        verbose_name_plural = _("triage models")
        ordering = ["-trained_at", "-pk"]

    def __str__(self):
        return f"v{self.pk}"


class TriageSuggestion(models.Model):
    """What triage suggested for a report the first time an operator looked at it, and what the
    operator then decided: the figures that say whether suggestions help."""

    report = models.OneToOneField(Report, on_delete=models.CASCADE, primary_key=True, related_name="suggestion")
    model = models.ForeignKey(TriageModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=10)  # "model" or "rules"
    made_at = models.DateTimeField()
    # Shown: its category confidence reached IOC_TRIAGE_MIN_CONFIDENCE when it was made.
    shown = models.BooleanField()
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    category_confidence = models.FloatField()
    alternatives = models.JSONField(default=list)  # [[code, confidence], ...], best first
    level = models.CharField(max_length=10, blank=True)
    level_confidence = models.FloatField(default=0)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    unit_confidence = models.FloatField(default=0)
    words = models.JSONField(default=list)
    # The operator's decision. `taken`: accepted whole with the one key.
    decided_at = models.DateTimeField(null=True, blank=True, db_index=True)
    taken = models.BooleanField(default=False)
    rejected = models.BooleanField(default=False)
    final_category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    final_level = models.CharField(max_length=10, blank=True)
    final_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("triage suggestion")
        verbose_name_plural = _("triage suggestions")

    def __str__(self):
        return f"{self.report_id}: {self.category_id} {self.category_confidence:.2f}"
