"""Indicators (subsystems 5-9): definitions, observations with their history, targets, stations, sources.

A new indicator, or a new subsystem served by this app, is a row, not code.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ioc.models import ApiKey, Unit


class IndicatorSubsystem(models.Model):
    """A wall subsystem made of indicators (5-9 by default). Adding one is a row: it appears in the
    registry, the wall, the snapshot API and the console without a code change."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    order = models.PositiveSmallIntegerField(_("order on the wall"), default=50)
    icon = models.CharField(_("icon"), max_length=40, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("indicator subsystem")
        verbose_name_plural = _("indicator subsystems")
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class Period(models.TextChoices):
    HOURLY = "hourly", _("Hourly")
    DAILY = "daily", _("Daily")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


class Direction(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")


class Rollup(models.TextChoices):
    SUM = "sum", _("Sum")
    AVG = "avg", _("Average")
    MAX = "max", _("Maximum")
    MIN = "min", _("Minimum")


class Scale(models.TextChoices):
    NONE = "", _("Plain number")
    VN_AQI = "vn_aqi", _("VN_AQI (Decision 1459/QĐ-TCMT)")


class Indicator(models.Model):
    """What a department reports: a figure with its period, direction and thresholds."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    subsystem = models.CharField(
        _("subsystem"), max_length=32, db_index=True, help_text=_("Code of an indicator subsystem.")
    )
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    unit_of_measure = models.CharField(_("unit of measure"), max_length=40, blank=True)
    period = models.CharField(_("period"), max_length=10, choices=Period.choices)
    direction = models.CharField(_("direction"), max_length=6, choices=Direction.choices, default=Direction.HIGHER)
    warning_threshold = models.DecimalField(
        _("warning threshold"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    critical_threshold = models.DecimalField(
        _("critical threshold"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    rollup = models.CharField(
        _("roll-up over units"),
        max_length=3,
        choices=Rollup.choices,
        default=Rollup.SUM,
        help_text=_("How the figures of several units combine for a scope above them."),
    )
    accumulates = models.BooleanField(
        _("adds up over the year"),
        default=False,
        help_text=_("Values add up to the year's total (monthly revenue); progress to target uses the sum."),
    )
    scale = models.CharField(_("scale"), max_length=10, choices=Scale.choices, default=Scale.NONE, blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True, help_text=_("Who reports it."))
    on_wall = models.BooleanField(_("on the wall"), default=True)
    wall_order = models.PositiveSmallIntegerField(_("order on the wall"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["subsystem", "wall_order", "code"]

    def __str__(self):
        return f"{self.code} · {self.name}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.subsystem and not IndicatorSubsystem.objects.filter(code=self.subsystem).exists():
            raise ValidationError({"subsystem": _("Unknown indicator subsystem.")})

    @property
    def label(self) -> str:
        if (get_language() or "vi").startswith("en") and self.name_en:
            return self.name_en
        return self.name


class IndicatorTarget(models.Model):
    """The plan for one indicator, unit and year (e.g. the province's budget revenue plan)."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="targets")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    value = models.DecimalField(_("target"), max_digits=18, decimal_places=4)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["-year", "indicator"]
        constraints = [models.UniqueConstraint(fields=["indicator", "unit", "year"], name="target_one_per_year")]

    def __str__(self):
        return f"{self.indicator.code} {self.unit.code} {self.year}: {self.value}"


class Station(models.Model):
    """A monitoring station (air, water, rain) with its position; its unit bounds who sees it."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="stations")
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    kind = models.CharField(_("kind"), max_length=40, blank=True, help_text=_("air, water, rain..."))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("monitoring station")
        verbose_name_plural = _("monitoring stations")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} · {self.name}"


class Observation(models.Model):
    """One value of one indicator for one unit (and station) and one period; resending is a no-op."""

    class Status(models.TextChoices):
        OK = "ok", _("Normal")
        WARNING = "warning", _("Warning")
        CRITICAL = "critical", _("Critical")

    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="observations")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    station = models.ForeignKey(Station, null=True, blank=True, on_delete=models.PROTECT, related_name="observations")
    period = models.CharField(_("period"), max_length=10, choices=Period.choices)
    period_start = models.DateTimeField(_("period start"))
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=4)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, blank=True)
    source = models.CharField(_("source"), max_length=100)
    received_at = models.DateTimeField(_("received at"))
    revisions = models.PositiveIntegerField(_("times replaced"), default=0)

    class Meta:
        verbose_name = _("observation")
        verbose_name_plural = _("observations")
        ordering = ["-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "unit", "station", "period_start"],
                name="observation_one_per_period",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["indicator", "period_start"], name="observation_indicator_period")]
        # Partitioned by month of period_start (ioc.partitions, docs/partitions.md); the unique key
        # above already holds period_start, the primary key in the database is (id, period_start).

    def __str__(self):
        return f"{self.indicator.code} {self.unit.code} {self.period_start:%Y-%m-%d %H:%M}: {self.value}"


class ObservationDaily(models.Model):
    """One local day of one series (indicator, unit, station), kept after the month's observations
    are dropped (IOC_OBSERVATION_RETENTION_MONTHS)."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    station = models.ForeignKey(Station, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    count = models.PositiveIntegerField(_("observations"))
    minimum = models.DecimalField(_("minimum"), max_digits=18, decimal_places=4)
    maximum = models.DecimalField(_("maximum"), max_digits=18, decimal_places=4)
    total = models.DecimalField(max_digits=24, decimal_places=4)  # with count: an average that adds up
    last = models.DecimalField(_("last value"), max_digits=18, decimal_places=4)
    last_period_start = models.DateTimeField()

    class Meta:
        verbose_name = _("observations of a day")
        verbose_name_plural = _("observations by day")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "unit", "station", "day"], name="observation_daily_once", nulls_distinct=False
            )
        ]

    def __str__(self):
        return f"{self.indicator_id} {self.unit_id} {self.day}: {self.average}"

    @property
    def average(self):
        return self.total / self.count if self.count else None


class ObservationRevision(models.Model):
    """A value that a later report for the same period replaced."""

    # No foreign key in the database: observations are partitioned by month (docs/partitions.md) and
    # PostgreSQL lets a foreign key point only at a unique key holding the partition key. Django
    # still deletes the history with its observation, and retention deletes it with the month.
    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="history", db_constraint=False)
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=4)
    source = models.CharField(_("source"), max_length=100)
    received_at = models.DateTimeField(_("received at"))
    replaced_at = models.DateTimeField(_("replaced at"))
    replaced_by_source = models.CharField(_("replaced by"), max_length=100)

    class Meta:
        verbose_name = _("replaced value")
        verbose_name_plural = _("replaced values")
        ordering = ["-replaced_at"]

    def __str__(self):
        return f"{self.value} (replaced {self.replaced_at:%Y-%m-%d %H:%M})"


class IndicatorSource(models.Model):
    """Which subsystems an API key may push figures for (the key's unit bounds where)."""

    api_key = models.OneToOneField(ApiKey, on_delete=models.CASCADE, related_name="indicator_source")
    subsystems = ArrayField(
        models.CharField(max_length=32),
        verbose_name=_("subsystems"),
        default=list,
        blank=True,
        help_text=_("Empty: every indicator subsystem."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("indicator source (API key)")
        verbose_name_plural = _("indicator sources (API keys)")

    def __str__(self):
        return f"{self.api_key.name}: {', '.join(self.subsystems) or '*'}"


class PullSource(models.Model):
    """A URL the platform fetches on a schedule (JSON or CSV) and feeds through the same ingestion."""

    name = models.SlugField(_("name"), max_length=64, unique=True)
    url = models.URLField(_("URL"), max_length=500)
    format = models.CharField(_("format"), max_length=20, help_text=_("An adapter name: json, csv..."))
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Rows may name this unit or units below it; rows without a unit belong to it."),
    )
    subsystems = ArrayField(
        models.CharField(max_length=32),
        verbose_name=_("subsystems"),
        default=list,
        blank=True,
        help_text=_("Empty: every indicator subsystem."),
    )
    schedule_minutes = models.PositiveIntegerField(_("every (minutes)"), default=60)
    active = models.BooleanField(_("active"), default=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_status = models.CharField(_("last result"), max_length=10, blank=True)
    last_message = models.TextField(_("last message"), blank=True)

    class Meta:
        verbose_name = _("pull source")
        verbose_name_plural = _("pull sources")
        ordering = ["name"]

    def __str__(self):
        return self.name
