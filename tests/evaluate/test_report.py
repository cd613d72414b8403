"""The report's bootstrap interval: drawn as counts of distinct scores, checked against the
textbook resampling of item positions it replaces."""

from __future__ import annotations

import random

import numpy as np
import pytest

from qianmo.evaluate._report import bootstrap_ci


def _resampled_positions(scores: list[float], seed: int) -> list[float]:
    values = np.asarray(scores, dtype=float)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (4000, len(values)))].mean(axis=1)
    return [float(x) for x in np.percentile(means, [2.5, 97.5])]


@pytest.mark.parametrize(
    ("share", "values"),
    [(0.71, [0.0, 1.0]), (0.5, [0.0, 1.0]), (0.9, [0.0, 0.25, 0.5, 1.0])],
)
def test_interval_matches_resampling_positions(share: float, values: list[float]) -> None:
    rng = random.Random(7)
    scores = [values[-1] if rng.random() < share else rng.choice(values[:-1]) for _ in range(2000)]
    lo, hi = bootstrap_ci(scores)
    ref_lo, ref_hi = _resampled_positions(scores, seed=1)
    mean = sum(scores) / len(scores)
    assert lo < mean < hi
    # Two Monte Carlo estimates of the same percentiles: equal up to their sampling noise.
    assert abs(lo - ref_lo) < 0.006 and abs(hi - ref_hi) < 0.006


def test_interval_ignores_item_order_and_degenerate_sets() -> None:
    scores = [1.0] * 30 + [0.0] * 70
    assert bootstrap_ci(scores) == bootstrap_ci(list(reversed(scores)))
    assert bootstrap_ci([1.0] * 50) == [1.0, 1.0]
    assert bootstrap_ci([]) == [0.0, 0.0]
