"""Judge triage suggestions on an evaluation set, split by time: train on the older reports, test on
the newer, beside the keyword rules and the most frequent answer (docs/triage.md)."""

import json
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from reports import triage

DEFAULT_SET = Path(settings.BASE_DIR) / "tests" / "data" / "triage" / "reports_vi.jsonl"


def _pct(value) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


class Command(BaseCommand):
    help = "Print top-1/top-3 category, level and unit accuracy of triage suggestions on a held-out set."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DEFAULT_SET), help="evaluation set (JSON lines)")
        parser.add_argument("--cut", default="2026-09-01T00:00:00+07:00", help="train before, test from (ISO 8601)")
        parser.add_argument(
            "--catalogue",
            choices=["demo", "db"],
            default="demo",
            help="keyword rules: the demo city's or this database's",
        )
        parser.add_argument(
            "--radius",
            type=float,
            default=150.0,
            help="duplicate radius in metres (the set's points are within ~120 m)",
        )
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args, **options):
        try:
            rows = triage.read_evaluation_set(options["file"])
            cut = datetime.fromisoformat(options["cut"])
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"cannot read the evaluation set: {exc}") from None
        if cut.tzinfo is None:
            raise CommandError("--cut needs a time zone offset, e.g. 2026-09-01T00:00:00+07:00")
        older = [r for r in rows if r.example.received_at < cut]
        newer = [r for r in rows if r.example.received_at >= cut]
        if not older or not newer:
            raise CommandError(f"the cut leaves {len(older)} reports to train on and {len(newer)} to test")
        if options["catalogue"] == "db":
            from reports.services import _catalogue

            catalogue = _catalogue()
        else:
            from reports.demo import demo_catalogue

            catalogue = demo_catalogue()
        figures = triage.evaluate(
            older,
            newer,
            catalogue,
            threshold=settings.IOC_TRIAGE_MIN_CONFIDENCE,
            radius=options["radius"],
            days=settings.IOC_REPORTS_DUPLICATE_DAYS,
            duplicate_threshold=settings.IOC_TRIAGE_DUPLICATE_MIN_SCORE,
        )
        if options["json"]:
            self.stdout.write(json.dumps(figures, indent=2, default=str))
            return
        self._table(figures, Path(options["file"]).name)

    def _table(self, f: dict, name: str) -> None:
        out = self.stdout.write
        out(f"{name}: trained on {f['train_reports']} older reports, tested on {f['test_reports']} newer")
        out(f"training {f['train_seconds']:.1f} s, serving {f['serve_ms']:.2f} ms per report")
        out("")
        out(f"{'figure':<24}{'model':>10}{'no diacr.':>11}{'keywords':>10}{'most freq.':>12}")
        for key, label in (
            ("category_top1", "category top-1"),
            ("category_top3", "category top-3"),
            ("level", "level"),
            ("unit", "unit"),
        ):
            out(
                f"{label:<24}{_pct(f['model'][key]):>10}{_pct(f['model_without_diacritics'][key]):>11}"
                f"{_pct(f['rules'][key]):>10}{_pct(f['most_frequent'][key]):>12}"
            )
        threshold = settings.IOC_TRIAGE_MIN_CONFIDENCE
        out("")
        out(f"calibration error of the model's category confidence: {_pct(f['calibration_error'])}")
        for source in ("model", "rules"):
            shown = f["at_threshold"][source]
            out(
                f"{source} at the {threshold:.0%} threshold: suggests for {_pct(shown['shown'])} of reports, "
                f"right on {_pct(shown['right_when_shown'])} of those; given a category when none fits: "
                f"{_pct(f['forced'][source])}"
            )
        if f.get("by_trait"):
            out("")
            out("category top-1 by kind of report:")
            for trait, t in f["by_trait"].items():
                out(
                    f"  {trait:<24} {t['reports']:>4} reports"
                    f"   model {_pct(t['model']):>8}   keywords {_pct(t['rules']):>8}"
                )
        out("")
        out("duplicates among the newer reports:")
        for key, label in (("text_and_place", "text and place"), ("place_and_category", "place and category only")):
            d = f["duplicates"][key]
            out(
                f"  by {label}: original proposed for {_pct(d['recall'])} of {d['duplicates']}; "
                f"a proposal for {_pct(d['false_proposals'])} of {d['others']} that duplicate nothing"
            )
