"""`contamination`: n-gram overlap between training records and every evaluation item.

Evaluation items are records marked `eval_only` and the items of registered suites (read
from the store's suite tables, so nothing here depends on the evaluation package). Word
13-grams for space-delimited text, character 13-grams for Chinese. Both sides are flagged:
the training record names the items it overlaps, and each item names those records.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from qianmo.quality._minhash import token_ngrams
from qianmo.quality._step import CorpusStep, Decision, StepOptions, register_step
from qianmo.quality._text import is_mostly_cjk
from qianmo.quality._tokenhash import token_hashes_of_texts
from qianmo.standard import Record, content_text
from qianmo.store import RecordFilter, SuiteItemRow, iter_records


class ContaminationOptions(StepOptions):
    word_ngram: int = Field(13, ge=3)
    char_ngram: int = Field(13, ge=3)
    threshold: float = Field(
        0.2, gt=0, le=1, description="shared n-grams / n-grams of the shorter side"
    )


def grams(texts: Sequence[str], word_ngram: int, char_ngram: int) -> list[np.ndarray]:
    """Each text's distinct n-gram hashes: its tokens hashed for all texts at once, by the
    same vectorised hasher near dedup uses."""
    return [
        np.unique(token_ngrams(th, char_ngram if is_mostly_cjk(text) else word_ngram))
        for text, th in zip(texts, token_hashes_of_texts(texts), strict=True)
    ]


@dataclass
class EvalIndex:
    """n-gram hash → evaluation items holding it; kept sorted for a vectorised lookup."""

    ids: list[str] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    keys: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    owners: dict[int, list[int]] = field(default_factory=dict)

    def add(self, item_id: str, hashes: np.ndarray) -> None:
        if item_id in self.ids or len(hashes) == 0:
            return
        index = len(self.ids)
        self.ids.append(item_id)
        self.sizes.append(len(hashes))
        for h in hashes.tolist():
            self.owners.setdefault(h, []).append(index)

    def freeze(self) -> EvalIndex:
        self.keys = np.array(sorted(self.owners), dtype=np.uint64)
        return self

    def overlaps(self, hashes: np.ndarray) -> Counter[int]:
        if len(self.keys) == 0 or len(hashes) == 0:
            return Counter()
        hits = hashes[np.isin(hashes, self.keys, assume_unique=True)]
        counts: Counter[int] = Counter()
        for h in hits.tolist():
            counts.update(self.owners[h])
        return counts


@register_step
class Contamination(CorpusStep):
    name = "contamination"
    Options = ContaminationOptions

    def _grams(self, texts: Sequence[str]) -> list[np.ndarray]:
        o = self.options
        assert isinstance(o, ContaminationOptions)
        return grams(texts, o.word_ngram, o.char_ngram)

    def prepare(self, session: Session) -> Any:
        items: dict[str, str] = {}  # evaluation item id → its text
        evaluation = RecordFilter.parse(["eval_only=true", "status=raw,accepted,needs_review"])
        for record in iter_records(session, evaluation):
            items.setdefault(record.id, record.text())
        for row in session.execute(select(SuiteItemRow.record_id, SuiteItemRow.data)):
            data = row.data or {}
            if isinstance(data.get("content"), dict) and data.get("kind"):
                items.setdefault(row.record_id, content_text(data["kind"], data["content"]))
        index = EvalIndex()
        for item_id, hashes in zip(items, self._grams(list(items.values())), strict=True):
            index.add(item_id, hashes)
        return index.freeze()

    def summarize(self, records: Sequence[Record]) -> list[tuple[str, Any]]:
        o = self.options
        assert isinstance(o, ContaminationOptions)
        index: EvalIndex = self.state or EvalIndex()
        out: list[tuple[str, Any]] = []
        if not index.ids:
            return out
        training = [r for r in records if not r.eval_only]
        for r, mine in zip(training, self._grams([r.text() for r in training]), strict=True):
            hits = []
            for item, shared in index.overlaps(mine).items():
                ratio = shared / min(len(mine), index.sizes[item])
                if ratio >= o.threshold and index.ids[item] != r.id:
                    hits.append((index.ids[item], round(ratio, 3)))
            if hits:
                out.append((r.id, (r.id, sorted(hits))))
        return out

    def decide(self, summaries: list[Any]) -> dict[str, Decision]:
        out: dict[str, Decision] = {}
        eval_side: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for record_id, hits in summaries:
            flag = {
                "resolved": False,
                "with": [item for item, _ in hits],
                "overlap": max(ratio for _, ratio in hits),
            }
            out[record_id] = Decision(flags={"contaminated": flag}, detail=dict(flag))
            for item, ratio in hits:
                eval_side[item].append((record_id, ratio))
        for item, hits in eval_side.items():
            flag = {
                "resolved": False,
                "with": sorted(rid for rid, _ in hits),
                "overlap": max(ratio for _, ratio in hits),
            }
            out[item] = Decision(flags={"contaminated": flag}, detail=dict(flag))
        return out
