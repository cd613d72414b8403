"""Scorers: small functions found by name, each turning an extraction into a score in [0, 1].

Accuracy (exact set) and Jaccard for MCQ; exact match and token F1 for short answers; id
sets with partial credit up the hierarchy; CVSS as the absolute deviation of base scores.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from qianmo.errors import QianmoError
from qianmo.evaluate._extract import Extraction, _normalise, extract_ids
from qianmo.evaluate._hierarchy import Hierarchy
from qianmo.evaluate._items import Item


@dataclass(frozen=True)
class Score:
    value: float
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class ScoreContext:
    hierarchy: Hierarchy = field(default_factory=Hierarchy)


Scorer = Callable[[Item, Extraction, ScoreContext], Score]
_SCORERS: dict[str, Scorer] = {}


def scorer(name: str) -> Callable[[Scorer], Scorer]:
    def register(fn: Scorer) -> Scorer:
        _SCORERS[name] = fn
        return fn

    return register


def get_scorer(name: str) -> Scorer:
    if name not in _SCORERS:
        raise QianmoError(f"unknown scorer {name!r} (one of: {', '.join(sorted(_SCORERS))})")
    return _SCORERS[name]


def scorer_names() -> list[str]:
    return sorted(_SCORERS)


def default_scorer(item: Item) -> str:
    return {"choice": "accuracy", "multi": "accuracy", "text": "token_f1"}.get(
        item.answer_type, item.answer_type
    )


@scorer("accuracy")
def accuracy(item: Item, got: Extraction, ctx: ScoreContext) -> Score:
    """1 when the chosen set is exactly the true set (multi-answer: all and only)."""
    return Score(float(got.valid and set(got.value) == set(item.truth)))


@scorer("jaccard")
def jaccard(item: Item, got: Extraction, ctx: ScoreContext) -> Score:
    """Partial credit for multi-answer items: |chosen ∩ true| / |chosen ∪ true|."""
    chosen, truth = set(got.value), set(item.truth)
    return Score(len(chosen & truth) / len(chosen | truth) if chosen | truth else 0.0)


def _words(text: str) -> list[str]:
    # CJK has no spaces: each character is a token; other scripts split on non-word runs.
    folded = _normalise(text).casefold()
    return re.findall(r"[\u3400-\u9fff]|[^\W_]+", folded)


@scorer("exact_match")
def exact_match(item: Item, got: Extraction, ctx: ScoreContext) -> Score:
    if not got.valid:
        return Score(0.0)
    return Score(float(_words(got.value[0]) == _words(item.truth[0])))


@scorer("token_f1")
def token_f1(item: Item, got: Extraction, ctx: ScoreContext) -> Score:
    pred, truth = _words(got.value[0]) if got.valid else [], _words(item.truth[0])
    common = sum((Counter(pred) & Counter(truth)).values())
    if not common:
        return Score(0.0)
    precision, recall = common / len(pred), common / len(truth)
    return Score(2 * precision * recall / (precision + recall))


def _truth_ids(item: Item) -> list[str]:
    return extract_ids(" ".join(item.truth)).value


def _soft_f1(pred: list[str], truth: list[str], credit: Callable[[str, str], float]) -> Score:
    if not pred or not truth:
        return Score(0.0)
    precision = sum(max(credit(p, t) for t in truth) for p in pred) / len(pred)
    recall = sum(max(credit(p, t) for p in pred) for t in truth) / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(f1, {"precision": precision, "recall": recall})


@scorer("ids")
def ids(item: Item, got: Extraction, ctx: ScoreContext) -> Score:
    """F1 over id sets where a parent or child of a true id earns half (a grandparent a
    quarter), read from the hierarchy in the store."""
    return _soft_f1(got.value, _truth_ids(item), ctx.hierarchy.credit)


@scorer("ids_exact")
def ids_exact(item: Item, got: Extraction, ctx: ScoreContext) -> Score:
    return _soft_f1(got.value, _truth_ids(item), lambda p, t: float(p == t))


def cvss_base_score(vector: str) -> float:
    """The base score of a CVSS v2, v3.x or v4 vector (`CVSS:3.1/` may be omitted)."""
    v = vector.strip()
    try:
        if v.startswith("CVSS:4"):
            return float(CVSS4(v).base_score)
        if v.startswith("CVSS:3"):
            return float(CVSS3(v).scores()[0])
        if "/Au:" in v or v.startswith("Au:"):
            return float(CVSS2(v).scores()[0])
        return float(CVSS3("CVSS:3.1/" + v).scores()[0])
    except CVSSError as e:
        raise QianmoError(f"not a CVSS vector: {e}", field="vector") from e


@scorer("cvss")
def cvss(item: Item, got: Extraction, ctx: ScoreContext) -> Score:
    """1 − |Δ base score| / 10; `abs_error` is averaged into the report's mean deviation."""
    if not got.valid:
        return Score(0.0)
    try:
        error = abs(cvss_base_score(got.value[0]) - cvss_base_score(item.truth[0]))
    except QianmoError:
        return Score(0.0)
    return Score(1 - error / 10, {"abs_error": error})
