"""Triage suggestions: what an operator would decide for a report, learned from the city's own decisions.

Three heads share one description of the report: its category (or none), its level and the unit to
assign. Features are TF-IDF n-grams of the text folded to plain ASCII (citizens type without
diacritics, with chat abbreviations), word n-grams of the text as written (the diacritics tell "mặt"
from "mất" when they are there), and a few context tokens: the citizen's own pick, the ward, the hour
and a coarse map cell. Each head is a multinomial logistic regression whose probabilities are
calibrated by a temperature fitted on the newest reports it was not trained on.

Before a model exists (or while it does not beat them) suggestions come from keyword rules: the
keywords an administrator writes per category in the catalogue.

A stored model is plain numbers and words (numpy arrays and JSON, loaded without pickle): it holds no
code and no reporter's identity, only the vocabulary of what citizens wrote.
"""

from __future__ import annotations

import io
import json
import math
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from ioc import geo

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

# scikit-learn and SciPy are imported where they are first used: every process of the project imports
# this module (through the reports services) and only those that train or serve suggestions need them
# (1.3 s of start-up, for every web worker, Celery worker and command).

NONE = ""  # the category label of a report that fits no category (an operator rejected it)
WARD = "@ward"  # the unit label "the report's own commune or ward"
HEADS = ("category", "level", "unit")
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")

# Chat abbreviations citizens use, read on the folded text ("đg" folds to "dg").
ABBREVIATIONS = {
    "ko": "khong",
    "k": "khong",
    "kh": "khong",
    "hok": "khong",
    "hong": "khong",
    "dc": "duoc",
    "dk": "duoc",
    "dg": "duong",
    "ng": "nguoi",
    "mn": "moi nguoi",
    "r": "roi",
    "j": "gi",
    "vs": "voi",
    "cx": "cung",
    "nc": "nuoc",
    "bt": "binh thuong",
    "ntn": "nhu the nao",
    "tg": "thoi gian",
    "qua": "qua",
    "cty": "cong ty",
    "bn": "bao nhieu",
    "sdt": "so dien thoai",
}
WORD = re.compile(r"\w+")

# The feature spaces, by name: the analyzer's settings (their fitted vocabulary and idf are stored).
SPACES = {
    "chars": {"analyzer": "char_wb", "ngram_range": (2, 5), "min_df": 2, "max_features": 150_000},
    "words": {"ngram_range": (1, 2), "token_pattern": r"\S+", "min_df": 1, "max_features": 100_000},
    "written": {"ngram_range": (1, 2), "token_pattern": r"\S+", "min_df": 2, "max_features": 60_000},
    "context": {"token_pattern": r"\S+", "min_df": 1},
}
# Both chosen on the evaluation set's training side alone (its older 392 reports, split by time again),
# never on the reports it is judged on. The context tokens count for less than the text: at full
# weight the model followed the citizen's own pick where the text said otherwise.
WEIGHTS = {"context": 0.6}
# How strongly each head may fit its examples (inverse regularisation).
C = {"category": 30.0, "level": 10.0, "unit": 30.0}


@dataclass(frozen=True)
class Example:
    """A report as the model sees it: never who sent it. Labels are empty when not known."""

    text: str
    ward: str
    received_at: datetime
    citizen_category: str = ""
    latitude: float | None = None
    longitude: float | None = None
    category: str = NONE
    level: str = ""
    unit: str = ""


def fold(text: str) -> str:
    """Lower case without diacritics ('Ổ gà' -> 'o ga', 'Đồng Khởi' -> 'dong khoi'), so an operator
    typing fast without Vietnamese accents still finds the name."""
    text = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def plain(text: str) -> str:
    """Folded text with chat abbreviations spelled out: 'ko dc đg' -> 'khong duoc duong'."""
    return " ".join(ABBREVIATIONS.get(word, word) for word in fold(text).split())


def _written(text: str) -> str:
    return " ".join(WORD.findall(text.lower()))


def _context(example: Example) -> str:
    hour = example.received_at.astimezone(LOCAL).hour
    tokens = [
        "picked=" + (example.citizen_category or "-"),
        "ward=" + example.ward,
        "hour=" + ("night" if hour < 6 or hour >= 22 else "day" if hour < 18 else "evening"),
    ]
    if example.latitude is not None and example.longitude is not None:
        tokens.append(f"cell={math.floor(example.latitude * 50)}:{math.floor(example.longitude * 50)}")
    return " ".join(tokens)


def _inputs(examples, *, strip_copy=False) -> dict[str, list[str]]:
    """The text each feature space reads, per example. `strip_copy` adds every example a second
    time typed without diacritics, so the model learns to do without them."""
    texts = [e.text for e in examples]
    if strip_copy:
        texts = texts + [fold(t) for t in texts]
        examples = list(examples) * 2
    folded = [plain(t) for t in texts]
    return {
        "chars": folded,
        "words": folded,
        "written": [_written(t) for t in texts],
        "context": [_context(e) for e in examples],
    }


def _tfidf(space: TfidfVectorizer, texts: list[str]):
    """`space.transform(texts)` without scikit-learn's input checks, which cost more than the work
    itself on one report: counts, sublinear term frequency, idf, rows of unit length (SPACES' settings;
    tests/test_triage.py holds it equal to `transform`)."""
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    counts = CountVectorizer.transform(space, texts)
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    data = (np.log(counts.data.astype(np.float32)) + 1) * space.idf_[counts.indices].astype(np.float32)
    norms = np.zeros(counts.shape[0], dtype=np.float32)
    np.add.at(norms, rows, data * data)
    norms = np.sqrt(norms)
    norms[norms == 0] = 1
    return sparse.csr_matrix((data / norms[rows], counts.indices, counts.indptr), shape=counts.shape)


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


@dataclass
class Head:
    classes: list[str]
    coef: np.ndarray  # classes x features
    intercept: np.ndarray
    temperature: float = 1.0

    def scores(self, X) -> np.ndarray:
        return np.asarray(X @ self.coef.T) + self.intercept

    def proba(self, X) -> np.ndarray:
        return _softmax(self.scores(X) / self.temperature)


def _fit_head(X, labels: list[str], c: float) -> Head | None:
    classes = sorted(set(labels))
    if len(classes) < 2:
        return None
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(C=c, max_iter=1000).fit(X, labels)
    coef, intercept = fitted.coef_.astype(np.float32), fitted.intercept_.astype(np.float32)
    if coef.shape[0] == 1:  # two classes: one weight vector, for the second
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
    return Head([str(c) for c in fitted.classes_], coef, intercept)


def _fit_temperature(head: Head, X, labels: list[str]) -> float:
    """The temperature that makes the head's probabilities honest on reports it did not learn from
    (least log-loss over a grid: a single number, so it cannot overfit a small held-out set)."""
    index = {c: i for i, c in enumerate(head.classes)}
    known = [i for i, label in enumerate(labels) if label in index]
    if not known:
        return 1.0
    scores = head.scores(X[known])
    truth = np.array([index[labels[i]] for i in known])
    best, best_loss = 1.0, math.inf
    for t in np.exp(np.linspace(math.log(0.2), math.log(5.0), 41)):
        p = _softmax(scores / t)[np.arange(len(truth)), truth]
        loss = -np.log(np.clip(p, 1e-9, None)).mean()
        if loss < best_loss:
            best, best_loss = float(t), loss
    return best


@dataclass
class Suggestion:
    """A ranked category (code, confidence), a level and a unit with their confidences, and the words
    of the text that drove the category. `unit` is a unit code or WARD."""

    categories: list[tuple[str, float]]
    level: tuple[str, float] | None
    unit: tuple[str, float] | None
    words: list[str] = field(default_factory=list)
    source: str = "model"

    @property
    def category(self) -> tuple[str, float]:
        return self.categories[0] if self.categories else (NONE, 0.0)


class Model:
    """The fitted feature spaces and heads; `suggest` serves one report."""

    def __init__(self, spaces: dict[str, TfidfVectorizer], heads: dict[str, Head]):
        self.spaces, self.heads = spaces, heads
        self._offsets = {}
        offset = 0
        for name in SPACES:
            self._offsets[name] = offset
            offset += len(spaces[name].vocabulary_)
        self.features = offset

    def matrix(self, examples, *, strip_copy=False, fit=False):
        from scipy import sparse

        inputs = _inputs(examples, strip_copy=strip_copy)
        blocks = []
        for name in SPACES:
            space = self.spaces[name]
            block = space.fit_transform(inputs[name]) if fit else _tfidf(space, inputs[name])
            blocks.append(block * WEIGHTS[name] if name in WEIGHTS else block)
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    @classmethod
    def fit(cls, examples: list[Example], *, only: int | None = None) -> tuple[Model, Model | None]:
        """A model of `examples`; with `only`, also one whose heads learned from the first `only`
        examples alone (the one judged on the rest). Both read the same feature spaces, fitted once
        on every example's text: word statistics, never a label, which halves the training time."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        spaces = {
            name: TfidfVectorizer(sublinear_tf=True, dtype=np.float32, **options) for name, options in SPACES.items()
        }
        model = cls.__new__(cls)
        model.spaces = spaces
        X = model.matrix(examples, strip_copy=True, fit=True)
        doubled = list(examples) * 2  # as typed, then without diacritics (_inputs)
        n = len(examples)

        def heads(rows: list[int]) -> dict[str, Head]:
            fitted = {}
            for head in HEADS:
                keep = [i for i in rows if getattr(doubled[i], head) or head == "category"]
                made = _fit_head(X[keep], [getattr(doubled[i], head) for i in keep], C[head])
                if made is not None:
                    fitted[head] = made
            return fitted

        full = cls(spaces, heads(list(range(2 * n))))
        if only is None:
            return full, None
        return full, cls(spaces, heads([*range(only), *range(n, n + only)]))

    def calibrate(self, examples: list[Example]) -> None:
        X = self.matrix(examples)
        for name, head in self.heads.items():
            head.temperature = _fit_temperature(head, X, [getattr(e, name) for e in examples])

    def predict(self, examples: list[Example]) -> list[Suggestion]:
        X = self.matrix(examples)
        probas = {name: head.proba(X) for name, head in self.heads.items()}
        out = []
        for i in range(len(examples)):
            ranked = {}
            for name, head in self.heads.items():
                order = np.argsort(-probas[name][i])[:3]
                ranked[name] = [(head.classes[j], float(probas[name][i][j])) for j in order]
            out.append(
                Suggestion(
                    categories=ranked.get("category", []),
                    level=ranked["level"][0] if "level" in ranked else None,
                    unit=ranked["unit"][0] if "unit" in ranked else None,
                )
            )
        return out

    def suggest(self, example: Example, *, explain: int = 4) -> Suggestion:
        suggestion = self.predict([example])[0]
        if explain and "category" in self.heads:
            suggestion.words = self.words_for(example, suggestion.category[0], limit=explain)
        return suggestion

    def words_for(self, example: Example, category: str, *, limit: int = 4) -> list[str]:
        """The words of the report, as written, that pushed most towards `category`: each word gets
        the weight of its own features (the word, its bigrams' half, its character n-grams)."""
        head = self.heads["category"]
        if category not in head.classes:
            return []
        weights = head.coef[head.classes.index(category)]
        written = WORD.findall(example.text)
        gains: dict[str, float] = {}
        chars = self.spaces["chars"].vocabulary_
        words = self.spaces["words"].vocabulary_
        char_idf = self.spaces["chars"].idf_
        char_off, word_off = self._offsets["chars"], self._offsets["words"]
        folded = [plain(w) for w in written]
        for shown, token in zip(written, folded, strict=True):
            if not token or len(token) < 2:
                continue
            gain = 0.0
            for part in token.split():
                if part in words:
                    gain += weights[word_off + words[part]]
                padded = f" {part} "
                grams = {padded[i : i + n] for n in range(2, 6) for i in range(len(padded) - n + 1)}
                for gram in grams:
                    j = chars.get(gram)
                    if j is not None:
                        gain += weights[char_off + j] * char_idf[j] / len(grams)
            key = shown.lower()
            gains[key] = max(gains.get(key, -math.inf), float(gain))
        ranked = sorted((g, w) for w, g in gains.items() if g > 0)
        return [w for g, w in reversed(ranked[-limit:])]

    # --- storage: plain arrays, no pickle ------------------------------------------------------

    def dumps(self) -> bytes:
        arrays, meta = {}, {"spaces": {}, "heads": {}}
        for name, space in self.spaces.items():
            terms = sorted(space.vocabulary_, key=space.vocabulary_.get)
            arrays[f"{name}.terms"] = np.frombuffer(json.dumps(terms).encode(), dtype=np.uint8)
            arrays[f"{name}.idf"] = space.idf_.astype(np.float32)
        for name, head in self.heads.items():
            arrays[f"{name}.coef"] = head.coef
            arrays[f"{name}.intercept"] = head.intercept
            meta["heads"][name] = {"classes": head.classes, "temperature": head.temperature}
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def loads(cls, blob: bytes) -> Model:
        from sklearn.feature_extraction.text import TfidfVectorizer

        with np.load(io.BytesIO(blob), allow_pickle=False) as stored:
            meta = json.loads(stored["meta"].tobytes())
            spaces = {}
            for name, options in SPACES.items():
                terms = json.loads(stored[f"{name}.terms"].tobytes())
                space = TfidfVectorizer(
                    sublinear_tf=True, dtype=np.float32, vocabulary={t: i for i, t in enumerate(terms)}, **options
                )
                space.idf_ = stored[f"{name}.idf"]
                spaces[name] = space
            heads = {
                name: Head(h["classes"], stored[f"{name}.coef"], stored[f"{name}.intercept"], h["temperature"])
                for name, h in meta["heads"].items()
            }
        return cls(spaces, heads)


# --- keyword rules (the cold start) -------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueEntry:
    """What the catalogue says of a category: its keywords, default level and department (or WARD)."""

    code: str
    keywords: tuple[str, ...]
    level: str
    unit: str


def parse_keywords(text: str) -> tuple[str, ...]:
    """Keywords as an administrator writes them: one per line or separated by commas."""
    return tuple(dict.fromkeys(k for k in (_written(part) for part in re.split(r"[,;\n]", text or "")) if k))


def _phrase(words: str) -> re.Pattern:
    return re.compile(rf"(?<!\w){re.escape(words)}(?!\w)")


class Rules:
    """Keyword rules: the category whose keywords the text contains most (longer phrases count more),
    its default level and its department. Confidence is that category's share of the matched words,
    weighed by how many matched (one word: at most 50 %, two: 75 %, three: 88 %).

    A text typed with diacritics is matched as written ("cháy" is not "chạy"); one typed without
    them is matched folded, where the two read the same."""

    source = "rules"

    def __init__(self, catalogue: list[CatalogueEntry]):
        self.catalogue = {entry.code: entry for entry in catalogue}
        self.patterns = [
            (entry.code, keyword, _phrase(keyword), _phrase(plain(keyword)))
            for entry in catalogue
            for keyword in entry.keywords
        ]

    def suggest(self, example: Example, *, explain: int = 4) -> Suggestion:
        written = _written(example.text)
        folded = plain(example.text)
        accented = fold(written) != written
        scores: dict[str, float] = {}
        hits: dict[str, list[str]] = {}
        for code, keyword, as_written, as_folded in self.patterns:
            if as_written.search(written) if accented else as_folded.search(folded):
                scores[code] = scores.get(code, 0.0) + len(keyword.split())
                hits.setdefault(code, []).append(keyword)
        if not scores:
            return Suggestion([], None, None, source=self.source)
        total = sum(scores.values())
        ranked = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))[:3]
        # A category's share of the matches, times how much matched: one keyword of one word is a weak
        # sign (half), each further matched word halves the doubt. "công trình" alone is not 100 %.
        categories = [(code, score / total * (1 - 0.5**score)) for code, score in ranked]
        entry, confidence = self.catalogue[ranked[0][0]], categories[0][1]
        return Suggestion(
            categories,
            (entry.level, confidence),
            (entry.unit, confidence),
            words=hits[entry.code][:explain],
            source=self.source,
        )

    def predict(self, examples: list[Example]) -> list[Suggestion]:
        return [self.suggest(e, explain=0) for e in examples]


class Blend:
    """The model, deferring to the keyword rules for a category it never learned: a category added to
    the catalogue after the model was trained (or never chosen since) has keywords but no history, and
    the model would force its reports into a category it knows, with confidence."""

    def __init__(self, model: Model, rules: Rules):
        self.model, self.rules = model, rules
        head = model.heads.get("category")
        self.known = set(head.classes) if head else set()

    def suggest(self, example: Example, *, explain: int = 4) -> Suggestion:
        by_rules = self.rules.suggest(example, explain=explain)
        if by_rules.categories and by_rules.category[0] not in self.known:
            return by_rules
        return self.model.suggest(example, explain=explain)

    def predict(self, examples: list[Example]) -> list[Suggestion]:
        by_model = self.model.predict(examples)
        by_rules = self.rules.predict(examples)
        return [
            r if r.categories and r.category[0] not in self.known else m
            for m, r in zip(by_model, by_rules, strict=True)
        ]


# --- judging: the same figures for the model, the rules and the most frequent answer ------------


def _most_frequent(labels) -> str:
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return max(sorted(counts), key=counts.get) if counts else ""


def _unit_of(suggested: str, example: Example) -> str:
    return example.ward if suggested == WARD else suggested


def score(suggestions: list[Suggestion], examples: list[Example]) -> dict:
    """Top-1 and top-3 category accuracy, level and unit accuracy (over the reports whose label is
    known), and the mean confidence of the top category when it is right and when it is wrong."""
    n = len(examples)
    top1 = sum(s.category[0] == e.category for s, e in zip(suggestions, examples, strict=True))
    top3 = sum(
        e.category in [c for c, _ in s.categories[:3]] or (not s.categories and e.category == NONE)
        for s, e in zip(suggestions, examples, strict=True)
    )
    level = [(s.level[0] if s.level else "") == e.level for s, e in zip(suggestions, examples, strict=True) if e.level]
    unit = [
        _unit_of(s.unit[0] if s.unit else "", e) == _unit_of(e.unit, e)
        for s, e in zip(suggestions, examples, strict=True)
        if e.unit
    ]
    return {
        "reports": n,
        "category_top1": top1 / n if n else None,
        "category_top3": top3 / n if n else None,
        "level": sum(level) / len(level) if level else None,
        "unit": sum(unit) / len(unit) if unit else None,
    }


def most_frequent_suggestions(train: list[Example], count: int) -> list[Suggestion]:
    ranked: dict[str, int] = {}
    for e in train:
        ranked[e.category] = ranked.get(e.category, 0) + 1
    top = sorted(ranked, key=lambda c: (-ranked[c], c))[:3]
    level = _most_frequent(e.level for e in train if e.level)
    unit = _most_frequent(e.unit for e in train if e.unit)
    one = Suggestion([(c, 1.0) for c in top], (level, 1.0), (unit, 1.0), source="most_frequent")
    return [one] * count


def calibration_error(suggestions: list[Suggestion], examples: list[Example], bins: int = 10) -> float | None:
    """Expected calibration error of the top category: how far the confidence shown is from how often
    it is right, weighted over confidence bins (0 is honest)."""
    pairs = [
        (s.category[1], s.category[0] == e.category) for s, e in zip(suggestions, examples, strict=True) if s.categories
    ]
    if not pairs:
        return None
    error = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [(c, ok) for c, ok in pairs if low <= c < high or (b == bins - 1 and c == 1.0)]
        if inside:
            error += (
                len(inside)
                / len(pairs)
                * abs(sum(c for c, _ in inside) / len(inside) - sum(ok for _, ok in inside) / len(inside))
            )
    return error


@dataclass
class Trained:
    model: Model | None
    metrics: dict
    seconds: float


def train(examples: list[Example], catalogue: list[CatalogueEntry], *, held_out: float = 0.2) -> Trained:
    """Judge on the newest `held_out` share of the reports (a model trained on the older ones, beside
    the keyword rules and the most frequent answer), fit the temperatures there, then train the model
    that is kept on all of them."""
    started = time.perf_counter()
    examples = sorted(examples, key=lambda e: e.received_at)
    cut = int(len(examples) * (1 - held_out))
    older, newer = examples[:cut], examples[cut:]
    metrics = {"reports": len(examples), "trained_on": len(older), "held_out": len(newer)}
    if len({e.category for e in older}) < 2 or not newer:
        metrics["reason"] = "too few triaged reports with at least two categories"
        return Trained(None, metrics, time.perf_counter() - started)
    final, judged = Model.fit(examples, only=cut)
    judged.calibrate(newer)
    suggestions = judged.predict(newer)
    metrics["model"] = score(suggestions, newer)
    metrics["model"]["calibration_error"] = calibration_error(suggestions, newer)
    metrics["rules"] = score(Rules(catalogue).predict(newer), newer)
    metrics["most_frequent"] = score(most_frequent_suggestions(older, len(newer)), newer)
    for name, head in final.heads.items():
        if name in judged.heads:
            head.temperature = judged.heads[name].temperature
    metrics["temperatures"] = {name: head.temperature for name, head in final.heads.items()}
    return Trained(final, metrics, time.perf_counter() - started)


def beats_baselines(metrics: dict) -> bool:
    """Whether the model may take over from the rules: better top-1 category on held-out reports than
    both the keyword rules and the most frequent answer."""
    model = (metrics.get("model") or {}).get("category_top1")
    if model is None:
        return False
    return all(model > ((metrics.get(other) or {}).get("category_top1") or 0) for other in ("rules", "most_frequent"))


# --- duplicates by meaning and place ------------------------------------------------------------

# How a nearby open report's score is made (each part from 0 to 1): what it says, how near it is,
# and whether the citizen filed it under the same category (citizens pick differently for one pothole).
DUPLICATE_WEIGHTS = {"text": 0.6, "place": 0.25, "category": 0.15}


def similarities(text: str, others: list[str]) -> list[float]:
    """How alike `text` is to each of `others` (cosine of character n-grams of the folded texts,
    weighted by how rare each n-gram is among them): 1 for the same words, 0 for nothing shared."""
    if not others:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer

    space = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    try:
        X = space.fit_transform([plain(text), *(plain(o) for o in others)])
    except ValueError:  # no n-gram at all (texts of punctuation only)
        return [0.0] * len(others)
    return [float(v) for v in (X[1:] @ X[0].T).toarray().ravel()]


def duplicate_score(*, similarity: float, metres: float, radius: float, same_category: bool) -> float:
    place = max(0.0, 1 - metres / radius) if radius else 0.0
    w = DUPLICATE_WEIGHTS
    return w["text"] * similarity + w["place"] * place + w["category"] * (1.0 if same_category else 0.0)


# --- the evaluation (manage.py triage_eval, the tests) ------------------------------------------


@dataclass(frozen=True)
class Labelled:
    """A row of an evaluation set: the example with its labels, and what it duplicates."""

    id: str
    example: Example
    duplicate_of: str | None = None
    traits: tuple[str, ...] = ()


def read_evaluation_set(path) -> list[Labelled]:
    """tests/data/triage/*.jsonl (its README gives the fields)."""
    rows = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            assigned = row.get("assigned_unit") or ""
            example = Example(
                text=row["text"],
                ward=row["unit"],
                received_at=datetime.fromisoformat(row["received_at"]),
                citizen_category=row.get("citizen_category") or "",
                latitude=row.get("latitude"),
                longitude=row.get("longitude"),
                category=row.get("category") or NONE,
                level=row.get("level") or "",
                unit=WARD if assigned and assigned == row["unit"] else assigned,
            )
            rows.append(Labelled(row["id"], example, row.get("duplicate_of"), tuple(row.get("traits") or ())))
    return rows


def _stripped(examples: list[Example]) -> list[Example]:
    return [Example(**{**e.__dict__, "text": fold(e.text)}) for e in examples]


def _forced(suggestions: list[Suggestion], examples: list[Example], threshold: float) -> float | None:
    """Of the reports that fit no category, the share given a category at or above the threshold."""
    none = [s for s, e in zip(suggestions, examples, strict=True) if e.category == NONE]
    if not none:
        return None
    return sum(1 for s in none if s.category[0] != NONE and s.category[1] >= threshold) / len(none)


def _shown(suggestions: list[Suggestion], examples: list[Example], threshold: float) -> dict:
    """At the threshold: the share of reports given a suggestion, and how often a shown one is right."""
    shown = [
        (s, e)
        for s, e in zip(suggestions, examples, strict=True)
        if s.categories and s.category[0] != NONE and s.category[1] >= threshold
    ]
    right = sum(1 for s, e in shown if s.category[0] == e.category)
    return {"shown": len(shown) / len(examples), "right_when_shown": right / len(shown) if shown else None}


def duplicate_figures(rows: list[Labelled], *, radius: float, days: int, text: bool, threshold: float) -> dict:
    """For each located row, the open earlier rows within `radius` metres and `days`: proposed is the
    best by `duplicate_score` (`text`) or, as before, the nearest of the same category (not `text`).
    Recall: duplicates whose original is proposed; false: rows that duplicate nothing given a proposal."""
    found = missed = false = clean = 0
    located = [r for r in rows if r.example.latitude is not None]
    for i, row in enumerate(located):
        e = row.example
        earlier = []
        for other in located[:i]:
            o = other.example
            if (e.received_at - o.received_at).total_seconds() > days * 86400:
                continue
            metres = geo.distance_m(e.latitude, e.longitude, o.latitude, o.longitude)
            if metres <= radius and (text or o.category == e.category):
                earlier.append((other, metres))
        proposal = None
        if earlier and text:
            alike = similarities(e.text, [o.example.text for o, _ in earlier])
            scored = [
                (
                    duplicate_score(
                        similarity=sim, metres=m, radius=radius, same_category=o.example.category == e.category
                    ),
                    o,
                )
                for (o, m), sim in zip(earlier, alike, strict=True)
            ]
            best_score, best = max(scored, key=lambda pair: pair[0])
            proposal = best if best_score >= threshold else None
        elif earlier:
            proposal = min(earlier, key=lambda pair: pair[1])[0]
        if row.duplicate_of:
            found, missed = (found + 1, missed) if proposal and proposal.id == row.duplicate_of else (found, missed + 1)
        else:
            false, clean = (false + 1, clean) if proposal else (false, clean + 1)
    return {
        "duplicates": found + missed,
        "recall": found / (found + missed) if found + missed else None,
        "others": false + clean,
        "false_proposals": false / (false + clean) if false + clean else None,
    }


def evaluate(
    train_rows: list[Labelled],
    test_rows: list[Labelled],
    catalogue: list[CatalogueEntry],
    *,
    threshold: float,
    radius: float,
    days: int,
    duplicate_threshold: float,
) -> dict:
    """Everything `manage.py triage_eval` prints: the model trained as `train` does on `train_rows`,
    judged on `test_rows` beside the keyword rules and the most frequent answer."""
    older = [r.example for r in train_rows]
    newer = [r.example for r in test_rows]
    trained = train(older, catalogue)
    rules = Rules(catalogue)
    model = Blend(trained.model, rules)
    started = time.perf_counter()
    served = [model.suggest(e) for e in newer]
    serve_ms = (time.perf_counter() - started) * 1000 / len(newer)
    by_rules = rules.predict(newer)
    result = {
        "train_reports": len(older),
        "test_reports": len(newer),
        "train_seconds": trained.seconds,
        "serve_ms": serve_ms,
        "model": score(served, newer),
        "model_without_diacritics": score(model.predict(_stripped(newer)), newer),
        "rules": score(by_rules, newer),
        "most_frequent": score(most_frequent_suggestions(older, len(newer)), newer),
        "calibration_error": calibration_error(served, newer),
        "forced": {"model": _forced(served, newer, threshold), "rules": _forced(by_rules, newer, threshold)},
        "at_threshold": {"model": _shown(served, newer, threshold), "rules": _shown(by_rules, newer, threshold)},
        "temperatures": trained.metrics.get("temperatures"),
    }
    for trait in ("no_diacritics", "abbreviations", "typos", "multi_category", "wrong_citizen_category"):
        having = [r.example for r in test_rows if trait in r.traits]
        if having:
            result.setdefault("by_trait", {})[trait] = {
                "reports": len(having),
                "model": score(model.predict(having), having)["category_top1"],
                "rules": score(rules.predict(having), having)["category_top1"],
            }
    # The duplicate threshold was chosen on the older side: judged on the newer.
    options = {"radius": radius, "days": days, "threshold": duplicate_threshold}
    result["duplicates"] = {
        "text_and_place": duplicate_figures(test_rows, text=True, **options),
        "place_and_category": duplicate_figures(test_rows, text=False, **options),
    }
    return result
