"""One-stop offices (bộ phận một cửa): offices, procedures, dossiers with their history, counters and queues."""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from ioc.models import Unit


class Office(models.Model):
    """The one-stop office of a unit (a ward's bộ phận một cửa)."""

    unit = models.OneToOneField(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="onestop_office")
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("one-stop office")
        verbose_name_plural = _("one-stop offices")
        ordering = ["unit__code"]

    def __str__(self):
        return self.name


class Procedure(models.Model):
    """An administrative procedure (thủ tục hành chính) from the national catalogue."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=300)
    field = models.CharField(_("field (lĩnh vực)"), max_length=120, blank=True)
    duration_days = models.DecimalField(
        _("legal duration (working days)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("Used to set the due date when the one-stop software sends none."),
    )
    has_fees = models.BooleanField(_("fees apply"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ["field", "code"]

    def __str__(self):
        return f"{self.code} · {self.name}"


class DossierStatus(models.IntegerChoices):
    """Status codes used when syncing with the national public-service portal."""

    REGISTERED = 1, _("Newly registered")
    RECEIVED = 2, _("Received")
    NOT_ACCEPTED = 3, _("Not accepted")
    IN_PROCESS = 4, _("In process")
    SUPPLEMENT_REQUESTED = 5, _("Additional documents requested")
    FEES_OWED = 6, _("Fees owed")
    WITHDRAWAL_REQUESTED = 7, _("Withdrawal requested")
    STOPPED = 8, _("Stopped")
    PROCESSED = 9, _("Processed")
    RETURNED = 10, _("Result returned")


# Received and not finished: the office still owes the citizen a result.
OPEN_STATUSES = (DossierStatus.RECEIVED, DossierStatus.IN_PROCESS, DossierStatus.SUPPLEMENT_REQUESTED,
                 DossierStatus.FEES_OWED)  # fmt: skip
# Never judged for progress: not taken in, withdrawn or stopped at the citizen's request.
NOT_COUNTED_STATUSES = (DossierStatus.REGISTERED, DossierStatus.NOT_ACCEPTED, DossierStatus.WITHDRAWAL_REQUESTED,
                        DossierStatus.STOPPED)  # fmt: skip


class Channel(models.IntegerChoices):
    IN_PERSON = 1, _("In person")
    ONLINE = 2, _("Online")
    POST = 3, _("By post")


class Satisfaction(models.IntegerChoices):
    DISLIKE = 1, _("Dissatisfied")
    NEUTRAL = 2, _("Neutral")
    SATISFIED = 3, _("Satisfied")


class Dossier(models.Model):
    """A dossier (hồ sơ) as last synced from the one-stop software; its code is the portal's."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    procedure = models.ForeignKey(Procedure, verbose_name=_("procedure"), on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        Unit, verbose_name=_("receiving unit"), on_delete=models.PROTECT, related_name="onestop_dossiers"
    )
    # The applicant is personal data: stored for the office, never shown on the wall or in lists.
    applicant_name = models.CharField(_("applicant"), max_length=200, blank=True)
    applicant_id_number = models.CharField(_("applicant's ID number"), max_length=20, blank=True)
    applicant_phone = models.CharField(_("applicant's phone"), max_length=20, blank=True)
    status = models.PositiveSmallIntegerField(_("status"), choices=DossierStatus.choices)
    channel = models.PositiveSmallIntegerField(_("channel"), choices=Channel.choices)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at (ngày hẹn trả)"), null=True, blank=True)
    processing_ended_at = models.DateTimeField(_("processing ended at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("result returned at"), null=True, blank=True)
    has_fees = models.BooleanField(_("fees apply"), default=False)
    paid_online = models.BooleanField(_("paid online"), default=False)
    digitized = models.BooleanField(_("inputs digitized"), default=False)
    electronic_result = models.BooleanField(_("electronic result"), default=False)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"), choices=Satisfaction.choices, null=True, blank=True
    )
    complaint = models.BooleanField(_("complaint"), default=False)
    updated_at = models.DateTimeField(_("updated at (source)"), help_text=_("As the one-stop software stamped it."))
    synced_at = models.DateTimeField(_("synced at"), auto_now=True)
    # Kept in step with the supplements by the services, so the indicators are one SQL query.
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, editable=False)
    supplement_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    supplement_supplied_at = models.DateTimeField(null=True, blank=True, editable=False)
    second_supplement_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    extended_due_at = models.DateTimeField(
        _("due at, with the citizen's supplement time added"), null=True, blank=True, editable=False
    )
    # Set by the deadline sweep when the dossier was counted into its unit's alert (once per deadline).
    due_soon_alerted_at = models.DateTimeField(null=True, blank=True, editable=False)
    overdue_alerted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["unit", "received_at"], name="dossier_unit_received"),
            models.Index(fields=["finished_at"], name="dossier_finished"),
            models.Index(fields=["received_at"], name="dossier_received"),
            # The open dossiers, which the wall counts and the deadline sweep reads every minute.
            models.Index(
                F("unit"),
                Coalesce(F("extended_due_at"), F("due_at")),
                name="dossier_open_unit_due",
                condition=Q(finished_at__isnull=True, status__in=[2, 4, 5, 6]),
            ),
            models.Index(fields=["status", "due_at"], name="dossier_status_due"),
            # What the monthly roll-ups leave to be judged when read (DossierMonth): the open dossiers that
            # count, with what judging them needs, so they are read from the index alone...
            models.Index(
                fields=["received_at"],
                include=[
                    "id",
                    "unit",
                    "status",
                    "finished_at",
                    "due_at",
                    "extended_due_at",
                    "supplement_requested_at",
                    "supplement_supplied_at",
                    "second_supplement_requested_at",
                    "complaint",
                    "satisfaction",
                ],
                name="dossier_open_judged",
                condition=Q(finished_at__isnull=True) & ~Q(status__in=[1, 3, 7, 8]),
            ),
            # ... and the few finished before a second supplement request.
            models.Index(
                fields=["received_at"],
                name="dossier_second_request_late",
                condition=Q(second_supplement_requested_at__gt=F("finished_at")),
            ),
        ]

    def __str__(self):
        return self.code


class DossierSupplement(models.Model):
    """A request for additional documents and the citizen's answer; the first is number 1."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="supplements")
    number = models.PositiveSmallIntegerField(_("number"))
    requested_at = models.DateTimeField(_("requested at"))
    supplied_at = models.DateTimeField(_("supplied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("supplement request")
        verbose_name_plural = _("supplement requests")
        ordering = ["dossier", "number"]
        constraints = [models.UniqueConstraint(fields=["dossier", "number"], name="one_supplement_per_number")]

    def __str__(self):
        return f"{self.dossier_id} #{self.number}"


class DossierStatusChange(models.Model):
    """Every status a dossier was reported in, at the source's time, even when reported late."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="history")
    status = models.PositiveSmallIntegerField(_("status"), choices=DossierStatus.choices)
    at = models.DateTimeField(_("at"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("dossier status change")
        verbose_name_plural = _("dossier status changes")
        ordering = ["dossier", "at"]
        constraints = [models.UniqueConstraint(fields=["dossier", "at", "status"], name="dossier_status_once")]

    def __str__(self):
        return f"{self.dossier_id}: {self.status} @ {self.at:%Y-%m-%d %H:%M}"


class Counter(models.Model):
    """A reception counter (quầy) of an office, optionally watched by a counter camera."""

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="counters")
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=120)
    staff_on_duty = models.CharField(_("staff on duty"), max_length=200, blank=True)
    camera = models.OneToOneField(
        "traffic.Camera",
        verbose_name=_("counter camera"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="onestop_counter",
        limit_choices_to={"purpose": "counter"},
    )
    active = models.BooleanField(_("active"), default=True)
    unattended_since = models.DateTimeField(_("unattended since"), null=True, blank=True, editable=False)
    # The latest queue figures, also kept as history in QueueFigure.
    waiting = models.PositiveIntegerField(_("waiting"), null=True, blank=True, editable=False)
    average_wait_minutes = models.FloatField(_("average wait (minutes)"), null=True, blank=True, editable=False)
    figures_at = models.DateTimeField(_("figures at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("counter")
        verbose_name_plural = _("counters")
        ordering = ["office", "code"]

    def __str__(self):
        return f"{self.office} · {self.name}"


class QueueFigure(models.Model):
    counter = models.ForeignKey(Counter, on_delete=models.CASCADE, related_name="queue_figures")
    waiting = models.PositiveIntegerField(_("waiting"))
    average_wait_minutes = models.FloatField(_("average wait (minutes)"), null=True, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("queue figure")
        verbose_name_plural = _("queue figures")
        ordering = ["-at"]
        constraints = [models.UniqueConstraint(fields=["counter", "at"], name="queue_figure_once")]
        indexes = [models.Index(fields=["counter", "at"], name="queue_counter_at")]

    def __str__(self):
        return f"{self.counter_id}: {self.waiting} @ {self.at:%H:%M}"


class DossierMonth(models.Model):
    """The Decision 766 counts of one receiving unit, procedure and month, so that a year's indicators
    read a few thousand rows instead of every dossier (docs/onestop.md, "Roll-ups").

    `received_month` is the local month the dossiers were received in; the intake counts (received,
    with a due date, online, digitized, with fees, paid online) are theirs. `finished_month` is set on
    the rows of dossiers finished in that month, counted for progress and not waiting on anything
    that may still change (`handled`, `on_time`, `complaints`); dossiers still open, or finished before
    a second supplement request, are judged from the dossiers themselves when read. The services keep
    the rows in step with every dossier they write."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="+")
    received_month = models.DateField()
    finished_month = models.DateField(null=True)
    handled = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)
    received = models.PositiveIntegerField(default=0)
    with_due_date = models.PositiveIntegerField(default=0)
    online = models.PositiveIntegerField(default=0)
    digitized = models.PositiveIntegerField(default=0)
    with_fees = models.PositiveIntegerField(default=0)
    paid_online = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("dossier month")
        verbose_name_plural = _("dossier months")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "procedure", "received_month", "finished_month"],
                nulls_distinct=False,
                name="dossier_month_once",
            )
        ]
        indexes = [
            models.Index(fields=["received_month"], name="dossier_month_received"),
            models.Index(fields=["finished_month"], name="dossier_month_finished"),
        ]

    def __str__(self):
        return f"{self.unit_id}/{self.procedure_id} {self.received_month:%Y-%m}"
