"""Reports: item scores (all rotations must be right), breakdowns with bootstrap intervals,
the timeliness split around a cutoff date, and contaminated items shown or left out."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

from qianmo.errors import QianmoError
from qianmo.evaluate._items import Item

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0


class Response(Protocol):
    """What reports read of a stored response (an `EvalResponseRow`, or just those columns)."""

    @property
    def position(self) -> int: ...
    @property
    def outcome(self) -> str: ...
    @property
    def score(self) -> float | None: ...
    @property
    def extracted(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ItemScore:
    item: Item
    score: float | None  # None: an item whose call failed (not scored)
    outcome: str
    metrics: dict[str, float]


def bootstrap_ci(scores: Sequence[float], *, level: float = 0.95) -> list[float]:
    """Percentile bootstrap interval of the mean, with a fixed seed (reports reproduce)."""
    if not scores:
        return [0.0, 0.0]
    return list(_bootstrap(tuple(scores), level))


# A report's breakdowns often repeat the whole set (one domain, one kind, one language):
# the same scores give the same interval, so it is drawn once.
@lru_cache(maxsize=64)
def _bootstrap(scores: tuple[float, ...], level: float) -> tuple[float, float]:
    # Imported here: numpy is a tenth of a second of start-up, and a run reaches this only
    # after its requests (`warm_imports` loads it while they are in flight).
    import numpy as np

    # Resampling n scores with replacement is drawing how often each distinct value comes up,
    # a multinomial over those values: the same distribution of means as indexing with
    # 1000 x n random positions, at the cost of 1000 x (distinct values) — scores are mostly
    # 0 and 1, so a 2,500-item report draws 2,000 numbers instead of 2.5 million.
    counts = sorted(Counter(scores).items())  # sorted: the interval ignores item order
    values = np.array([v for v, _ in counts], dtype=float)
    weights = np.array([c for _, c in counts], dtype=float) / len(scores)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    draws = rng.multinomial(len(scores), weights, size=BOOTSTRAP_RESAMPLES)
    means = draws @ values / len(scores)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return round(float(lo), 4), round(float(hi), 4)


def item_scores(items: Iterable[Item], responses: Iterable[Response]) -> list[ItemScore]:
    """One score per item: the lowest over its rotations (circular: all must be right)."""
    by_item: dict[int, list[Response]] = defaultdict(list)
    for r in responses:
        by_item[r.position].append(r)
    out: list[ItemScore] = []
    for item in items:
        rows = by_item.get(item.position, [])
        if not rows or any(r.outcome == "error" for r in rows):
            out.append(ItemScore(item, None, "error" if rows else "missing", {}))
            continue
        worst = min(rows, key=lambda r: (r.score or 0.0, r.outcome != "invalid"))
        invalid = any(r.outcome == "invalid" for r in rows)
        metrics: dict[str, float] = {}
        for r in rows:
            for k, v in r.extracted.get("metrics", {}).items():
                metrics[k] = max(metrics.get(k, v), v) if k == "abs_error" else v
        out.append(
            ItemScore(item, worst.score or 0.0, "invalid" if invalid else worst.outcome, metrics)
        )
    return out


def _group(scored: list[ItemScore]) -> dict[str, Any]:
    done = [s for s in scored if s.score is not None]
    values = [s.score for s in done if s.score is not None]
    out: dict[str, Any] = {
        "n": len(done),
        "accuracy": round(sum(values) / len(values), 4) if values else 0.0,
        "ci95": bootstrap_ci(values),
        "correct": sum(s.outcome == "correct" for s in done),
        "invalid": sum(s.outcome == "invalid" for s in done),
    }
    errors = [s.metrics["abs_error"] for s in done if "abs_error" in s.metrics]
    if errors:
        out["cvss_mad"] = round(sum(errors) / len(errors), 4)
    return out


def _by(scored: list[ItemScore], key: str) -> dict[str, Any]:
    groups: dict[str, list[ItemScore]] = defaultdict(list)
    for s in scored:
        value = s.item.answer_type if key == "answer_type" else getattr(s.item, key)
        groups[str(value or "unknown")].append(s)
    return {k: _group(v) for k, v in sorted(groups.items())}


def _cutoff(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError as e:
        raise QianmoError(f"{value!r} is not a date (YYYY-MM-DD)", field="cutoff") from e
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def timeliness(scored: list[ItemScore], cutoff: str) -> dict[str, Any]:
    """Items published before the cutoff (e.g. a model's training cutoff) against after it."""
    when = _cutoff(cutoff)
    split: dict[str, list[ItemScore]] = {"before": [], "after": [], "unknown": []}
    for s in scored:
        at = s.item.published_at
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        split["unknown" if at is None else "before" if at < when else "after"].append(s)
    return {"cutoff": when.date().isoformat(), **{k: _group(v) for k, v in split.items()}}


def summarise(
    items: list[Item],
    responses: Iterable[Response],
    *,
    cutoff: str | None = None,
    exclude_contaminated: bool = False,
) -> dict[str, Any]:
    scored = item_scores(items, responses)
    contaminated = [s.item.record_id for s in scored if s.item.contaminated]
    if exclude_contaminated:
        scored = [s for s in scored if not s.item.contaminated]
    overall = _group(scored)
    summary: dict[str, Any] = {
        **overall,
        "items": len(scored),
        "wrong": sum(s.outcome in {"wrong", "partial"} for s in scored),
        "errors": sum(s.score is None for s in scored),
        "by_domain": _by(scored, "domain"),
        "by_kind": _by(scored, "kind"),
        "by_lang": _by(scored, "lang"),
        "by_answer_type": _by(scored, "answer_type"),
        "contaminated": {
            "n": len(contaminated),
            "excluded": exclude_contaminated,
            "record_ids": contaminated,
        },
    }
    if cutoff:
        summary["timeliness"] = timeliness(scored, cutoff)
    return summary
