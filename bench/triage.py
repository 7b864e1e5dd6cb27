"""Benchmark 5: triage suggestions, without a server (reports.triage is what the services call).

- Training on 50,000 triaged reports (the issue's goal: under a minute), beside the least any text
  model must do in the same run: fitting the character n-grams of those texts alone.
- Serving one report (goal: p99 under 5 ms), beside the keyword rules on the same reports.
- Accuracy on the evaluation set (tests/data/triage), split by time, beside the keyword rules and the
  most frequent answer: the figures `manage.py triage_eval` prints.

The 50,000 reports are the evaluation set's older rows varied (a word dropped, a house number, a third
typed without diacritics): they time the training, they are not a judge of accuracy.
"""

import random
from datetime import datetime, timedelta
from pathlib import Path
from time import perf_counter

from django.conf import settings
from sklearn.feature_extraction.text import TfidfVectorizer

from bench.load import Results
from bench.stats import summary
from reports import triage
from reports.demo import demo_catalogue

REPORTS = 50_000
SERVED = 600
EVALUATION_SET = Path(settings.BASE_DIR) / "tests" / "data" / "triage" / "reports_vi.jsonl"
CUT = datetime.fromisoformat("2026-09-01T00:00:00+07:00")


def _varied(rows: list[triage.Labelled], count: int) -> list[triage.Example]:
    rng = random.Random(75)
    start = rows[0].example.received_at
    made = []
    for i in range(count):
        e = rng.choice(rows).example
        words = e.text.split()
        if len(words) > 6:
            del words[rng.randrange(len(words))]
        text = " ".join(words) + f" số {rng.randint(1, 400)}"
        if rng.random() < 0.3:
            text = triage.fold(text)
        at = start + timedelta(seconds=i * 365 * 86400 // count)
        made.append(triage.Example(**{**e.__dict__, "text": text, "received_at": at}))
    return made


def run() -> tuple[list[dict], dict]:
    rows = triage.read_evaluation_set(EVALUATION_SET)
    older = [r for r in rows if r.example.received_at < CUT]
    newer = [r for r in rows if r.example.received_at >= CUT]
    catalogue = demo_catalogue()
    corpus = _varied(older, REPORTS)

    started = perf_counter()
    texts = [triage.plain(e.text) for e in corpus]
    TfidfVectorizer(sublinear_tf=True, **triage.SPACES["chars"]).fit(texts + texts)
    floor_seconds = perf_counter() - started
    started = perf_counter()
    trained = triage.train(corpus, catalogue)
    train_seconds = perf_counter() - started
    floor = summary(
        "triage floor: char n-grams of 50,000",
        Results.timed(floor_seconds, REPORTS, latencies=[floor_seconds]),
        unit="reports/s",
    )
    training = summary(
        "triage: train on 50,000 reports",
        Results.timed(train_seconds, REPORTS, latencies=[train_seconds]),
        floor,
        unit="reports/s",
        budget="p99 < 60000 ms",
        note=f"three heads, {trained.model.features:,} features",
    )

    rules = triage.Rules(catalogue)
    served = triage.Blend(trained.model, rules)
    examples = [r.example for r in newer]
    timings = {"rules": [], "model": []}
    for i in range(SERVED):
        example = examples[i % len(examples)]
        for name, suggester in (("rules", rules), ("model", served)):
            started = perf_counter()
            suggester.suggest(example)
            timings[name].append(perf_counter() - started)
    serve_floor = summary(
        "triage floor: keyword rules, 1 report",
        Results.timed(sum(timings["rules"]), SERVED, latencies=timings["rules"]),
        unit="reports/s",
    )
    serving = summary(
        "triage: suggest for 1 report",
        Results.timed(sum(timings["model"]), SERVED, latencies=timings["model"]),
        serve_floor,
        unit="reports/s",
        budget="p99 < 5 ms",
        note="the 50,000-report model, with the words that drove it",
    )

    figures = triage.evaluate(
        older,
        newer,
        catalogue,
        threshold=settings.IOC_TRIAGE_MIN_CONFIDENCE,
        radius=150,
        days=settings.IOC_REPORTS_DUPLICATE_DAYS,
        duplicate_threshold=settings.IOC_TRIAGE_DUPLICATE_MIN_SCORE,
    )
    accuracy = ", ".join(
        f"{label} {figures['model'][key]:.1%} (keywords {figures['rules'][key]:.1%}, "
        f"most frequent {figures['most_frequent'][key]:.1%})"
        for key, label in (("category_top1", "top-1"), ("category_top3", "top-3"), ("level", "level"), ("unit", "unit"))
    )
    serving["note"] += f"; on the evaluation set's {len(newer)} newer reports: {accuracy}"
    return [floor, training, serve_floor, serving], {"evaluation": figures, "train_seconds": train_seconds}
