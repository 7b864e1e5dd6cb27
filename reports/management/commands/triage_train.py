"""Train the triage suggestion model now, from the operators' decisions (docs/triage.md)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from reports import services


class Command(BaseCommand):
    help = "Train a triage suggestion model on the triaged reports and print its held-out figures."

    def handle(self, *args, **options):
        stored = services.triage_train()
        if stored is None:
            self.stdout.write(
                f"not trained: fewer than {settings.IOC_TRIAGE_MIN_REPORTS} triaged reports with two categories "
                "or more; the keyword rules keep serving"
            )
            return
        m = stored.metrics
        self.stdout.write(f"model v{stored.pk}: {stored.reports} reports, {stored.seconds:.1f} s")
        for source in ("model", "rules", "most_frequent"):
            s = m.get(source) or {}
            figures = ", ".join(
                f"{key} {s[key] * 100:.1f} %"
                for key in ("category_top1", "category_top3", "level", "unit")
                if s.get(key) is not None
            )
            self.stdout.write(f"  {source}: {figures}")
        self.stdout.write(
            "serves the console" if stored.beats_baselines else "does not beat the rules: they keep serving"
        )
