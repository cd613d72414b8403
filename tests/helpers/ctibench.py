"""CTIBench MCQ into a test store: the `sources` importer when main has it, else a small
parser of our own; then the validity check the quality pipeline applies to MCQ options."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path

from qianmo.standard import Record, RecordInvalid, Status, validate_record
from qianmo.store import Database, add_records, set_status

OPTIONS = ("A", "B", "C", "D")
csv.field_size_limit(sys.maxsize)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def _own_reader(path: Path, on_reject: object = None) -> Iterator[Record]:
    for i, row in enumerate(read_rows(path), start=1):
        choices = {o: row[f"Option {o}"] for o in OPTIONS if row[f"Option {o}"].strip()}
        content = {"question": row["Question"], "choices": choices, "answer": row["GT"].strip()}
        data = {
            "kind": "mcq",
            "lang": "en",
            "eval_only": True,
            "domain": "threat.intel",
            "content": content,
            "refs": {"urls": [row["URL"]]},
            "source": {
                "name": "ctibench-mcq",
                "original_id": f"mcq:{i}",
                "license": "CC-BY-NC-SA-4.0",
                "tlp": "CLEAR",
            },
        }
        try:
            yield validate_record(data)
        except RecordInvalid:
            continue  # rejected at validation, as an import would (the answer is not an option)


def _reader() -> tuple[str, object]:
    try:
        from qianmo.ingest.sources import read_ctibench  # the `sources` importer, when merged
    except ImportError:
        return "test parser", _own_reader
    return "qianmo.ingest.sources.read_ctibench", read_ctibench


def invalid_options(record: Record) -> str | None:
    """Why an MCQ cannot be asked fairly: an empty or a repeated option."""
    texts = [t.strip().casefold() for t in record.content["choices"].values()]
    if len(texts) < len(OPTIONS) or any(not t for t in texts):
        return "an option is empty"
    if len(set(texts)) < len(texts):
        return "two options say the same"
    return None


def load_ctibench_mcq(db: Database, path: Path) -> tuple[str, dict[str, str]]:
    """Import, accept the valid items and reject the others; returns the reader used and a
    map from question text to row number (`mcq:N`) for replaying published answers."""
    used, reader = _reader()
    skipped: list[object] = []  # rows the importer rejects (the answer is not an option)
    records = list(reader(path, on_reject=skipped.append))  # type: ignore[operator]
    rejected = {r.id: why for r in records if (why := invalid_options(r))}
    with db.write() as s:
        add_records(s, records, actor="test")
        set_status(
            s,
            [r.id for r in records if r.id not in rejected],
            Status.ACCEPTED,
            reason=None,
            actor="test",
        )
        for rid, why in rejected.items():
            set_status(s, [rid], Status.REJECTED, reason=why, actor="test")
    rows = {r.content["question"]: r.source.original_id or "" for r in records}
    return used, rows


# Ways chat models wrap a letter X whose option text is T (English and Chinese).
SHAPES = [
    "ANSWER: {X}",
    "{X}",
    "**{X}**",
    "({X})",
    "{X}) {T}",
    "{X}. {T}",
    "The correct answer is **{X}. {T}**.",
    "答案：{X}",
    "正确答案是{X}。",
    "{x}",
    "{T}",
    "Let me think about each option in turn; only one fits the description.\n\nFinal answer: {X}",
]
