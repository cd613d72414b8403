"""`heuristics`: length, repetition, garbage, broken MCQs, trivial or leaked answers → score.

The score (0–1) is what dedup uses to pick a cluster's representative and what releases
may filter on. Answer letters skewed across a source are reported on the source, never
held against a record.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from pydantic import Field

from qianmo.quality._fields import texts
from qianmo.quality._step import Step, StepOptions, Verdict, register_step
from qianmo.quality._text import tokens
from qianmo.standard import Kind, Record

_CODE_BLOCK = re.compile(r"```.*?(?:```|\Z)", re.S)
_PLACEHOLDER = {"n/a", "na", "none", "null", "todo", "tbd", "?", "-", "...", "…", "无", "暂无"}
_PLACEHOLDER |= {"略", "不知道", "待补充", "unknown", "see above", "同上"}
_LEAK = re.compile(r"(?:answer|答案)\s*(?:is|为|是)?\s*[:：]?\s*\(?([A-H])\)?(?![A-Za-z])", re.I)
_PROSE_KINDS = {Kind.DOCUMENT, Kind.QA, Kind.MCQ, Kind.INSTRUCTION, Kind.PREFERENCE}


class HeuristicsOptions(StepOptions):
    min_chars: dict[str, int] = Field(default_factory=lambda: {"document": 50, "default": 5})
    max_chars: dict[str, int] = Field(default_factory=lambda: {"default": 500_000})
    max_repeated_lines: float = Field(0.5, ge=0, le=1)
    max_top_ngram: float = Field(0.3, ge=0, le=1, description="share of tokens in one 4-gram")
    max_symbols: float = Field(0.5, ge=0, le=1, description="in prose outside code blocks")
    skew_min_items: int = Field(30, ge=2)


def _bound(table: dict[str, int], kind: Kind) -> int:
    return table.get(kind.value, table.get("default", 0))


def _repeated_lines(text: str) -> float:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(lines) < 5:
        return 0.0
    return 1 - len(set(lines)) / len(lines)


def _top_ngram(toks: list[str], n: int = 4) -> float:
    if len(toks) < 50:
        return 0.0
    # zip of shifted lists builds the n-gram tuples in C (3× cheaper than slicing per gram);
    # usually no n-gram repeats, and a set tells so cheaper than a Counter
    grams = list(zip(*(toks[k:] for k in range(n)), strict=False))  # shifted: shorter
    top = 1 if len(set(grams)) == len(grams) else max(Counter(grams).values())
    return top * n / len(toks)


_PUNCT = ".,;:!?'\"()-，。；：！？（）、"
# What is neither a letter or digit (`\w` is exactly str.isalnum plus `_`, checked over
# every code point), nor whitespace, nor ordinary punctuation: one regex pass instead of a
# Python loop over characters (the step's main cost).
_ODD = re.compile(rf"[^\w\s{re.escape(_PUNCT)}]|_")
# ASCII text: deleting every ASCII character that is not odd leaves the odd ones (C speed)
_NOT_ODD = bytes(c for c in range(128) if chr(c).isalnum() or chr(c).isspace() or chr(c) in _PUNCT)


def _symbols(text: str) -> float:
    prose = _CODE_BLOCK.sub("", text) if "```" in text else text
    if len(prose) < 100:
        return 0.0
    if prose.isascii():
        return len(prose.encode().translate(None, _NOT_ODD)) / len(prose)
    odd = len(_ODD.findall(prose))
    return (odd + 20 * prose.count("\ufffd")) / len(prose)


def _answer_problem(record: Record) -> tuple[str | None, str | None]:
    """(reject reason, review reason) for the answer-bearing kinds."""
    c = record.content
    if record.kind is Kind.MCQ:
        seen = [" ".join(str(t).lower().split()) for t in c["choices"].values()]
        if len(set(seen)) < len(seen):
            return "broken_mcq:duplicate_choices", None
        if _LEAK.search(c["question"]):
            return None, "answer_leak"
        return None, None
    answer = {Kind.QA: "answer", Kind.INSTRUCTION: "output"}.get(record.kind)
    if answer is None:
        return None, None
    value = " ".join(str(c.get(answer, "")).split())
    if not re.sub(r"[\W_]+", "", value):
        return "empty_answer", None
    if value.lower().strip("。. ") in _PLACEHOLDER:
        return "trivial_answer", None
    question = str(c.get("question") or c.get("instruction") or "")
    if c.get("answer_type", "text") == "text" and len(value) >= 12 and value in question:
        return None, "answer_leak"
    return None, None


@register_step
class Heuristics(Step):
    name = "heuristics"
    Options = HeuristicsOptions

    def process(self, record: Record) -> Verdict:
        o = self.options
        assert isinstance(o, HeuristicsOptions)
        text = "\n".join(texts(record))
        size = len(text.strip())
        measures: dict[str, Any] = {"chars": size}
        reject, review = _answer_problem(record)
        if size < _bound(o.min_chars, record.kind):
            reject = "too_short"
        elif size > _bound(o.max_chars, record.kind):
            reject = "too_long"
        repeated = _repeated_lines(text)
        top = _top_ngram(tokens(text))
        symbols = _symbols(text) if record.kind in _PROSE_KINDS else 0.0
        measures.update(repeated_lines=round(repeated, 3), top_ngram=round(top, 3))
        measures["symbols"] = round(symbols, 3)
        if reject is None:
            if repeated > o.max_repeated_lines:
                reject = "repeated_lines"
            elif top > o.max_top_ngram:
                reject = "repeated_ngrams"
            elif symbols > o.max_symbols:
                reject = "garbage"
        score = 0.0 if reject else _score(size, repeated, top, symbols, review is not None)
        changed = record.quality.score != score
        record.quality.score = score
        detail = {**measures, "score": score}
        tally = _answer_tally(record)
        return Verdict(changed=changed, reject=reject, review=review, detail=detail, tally=tally)


def _score(size: int, repeated: float, top: float, symbols: float, doubtful: bool) -> float:
    length = min(1.0, 0.5 + size / 400)  # very short texts teach less
    value = length * (1 - repeated) * (1 - top) * (1 - min(symbols, 1.0))
    return round(value * (0.5 if doubtful else 1.0), 3)


def _answer_tally(record: Record) -> tuple[str, ...]:
    """`answer\tSOURCE\tPOSITION` for single-answer MCQs, counted over the run."""
    if record.kind is not Kind.MCQ or not isinstance(record.content["answer"], str):
        return ()
    position = list(record.content["choices"]).index(record.content["answer"])
    return (f"answer\t{record.source.name}\t{position}",)


def answer_skew(tallies: dict[str, int], min_items: int = 30) -> dict[str, Any]:
    """Sources whose correct answers sit mostly at one position (a model could learn it)."""
    by_source: dict[str, Counter[int]] = {}
    for key, n in tallies.items():
        tag, source, slot = key.split("\t")
        if tag == "answer":
            by_source.setdefault(source, Counter())[int(slot)] += n
    out: dict[str, Any] = {}
    for source, counts in by_source.items():
        n = sum(counts.values())
        k = max(len(counts), 4)
        if n < min_items:
            continue
        position, top = counts.most_common(1)[0]
        if top / n >= 1.5 / k:
            out[source] = {
                "answer_skew": {"position": position, "share": round(top / n, 3), "items": n}
            }
    return out
