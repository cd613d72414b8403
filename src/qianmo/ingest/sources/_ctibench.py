"""CTIBench TSV files: MCQ, RCM (→ CWE), VSP (→ CVSS vector) and ATE (→ technique ids).

The task is told by the header: MCQ has Option A–D, ATE has Platform, VSP's answers are
CVSS vectors and RCM's are CWE ids. TAA has no ground truth and is refused.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qianmo.ingest.sources._benchdata import bench_domain, bench_source
from qianmo.ingest.sources._common import (
    OnReject,
    Rejected,
    SourceError,
    build_record,
    reject_or_raise,
    skip_rejected,
)
from qianmo.standard import Record

_CVE = re.compile(r"CVE-\d{4}-\d{4,}", re.I)
_TECHNIQUE = re.compile(r"T\d{4}(?:\.\d{3})?")
_OPTIONS = ("Option A", "Option B", "Option C", "Option D")

csv.field_size_limit(sys.maxsize)


def ctibench_task(header: list[str], path: Path) -> str:
    cols = set(header)
    if set(_OPTIONS) <= cols and "GT" in cols:
        return "mcq"
    if "Platform" in cols and "GT" in cols:
        return "ate"
    if {"Description", "GT"} <= cols:
        return "vsp" if "vsp" in path.name.lower() else "rcm"
    if "Text" in cols and "GT" not in cols:
        raise SourceError(
            "CTIBench TAA has no ground truth (GT column); not importable", file=str(path)
        )
    raise SourceError(f"not a CTIBench file: unexpected columns {header}", file=str(path))


def _refs(row: dict[str, str]) -> dict[str, Any]:
    url = row.get("URL") or ""
    refs: dict[str, Any] = {"urls": [url] if url.startswith("http") else []}
    refs["cve"] = sorted({m.upper() for m in _CVE.findall(url)})
    return refs


def _content(task: str, row: dict[str, str]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(kind, content, extra refs) of one row of a task."""
    gt = (row.get("GT") or "").strip()
    if task == "mcq":
        # a few rows offer three options and leave the fourth column empty
        choices = {o[-1]: row[o] for o in _OPTIONS if (row.get(o) or "").strip()}
        return "mcq", {"question": row.get("Question"), "choices": choices, "answer": gt}, {}
    prompt = row.get("Prompt") or row.get("Description") or ""
    if task == "rcm":
        return "qa", {"question": prompt, "answer": gt, "answer_type": "ids"}, {"cwe": [gt]}
    if task == "vsp":
        return "qa", {"question": prompt, "answer": gt, "answer_type": "cvss"}, {}
    ids = _TECHNIQUE.findall(gt)
    content = {"question": prompt, "answer": ", ".join(ids), "answer_type": "ids"}
    return "qa", content, {"attack": ids}


def read_ctibench(
    path: Path | str, options: dict[str, Any] | None = None, *, on_reject: OnReject | None = None
) -> Iterator[Record]:
    """Every row of a CTIBench TSV as an eval-only `mcq` or `qa` record."""
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as e:
        raise SourceError(f"cannot read: {e.strerror}", file=str(path)) from e
    with handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        task = ctibench_task(list(reader.fieldnames or []), path)
        name = f"ctibench-{task}"
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if not (row.get("GT") or "").strip():
                reject_or_raise(
                    on_reject or skip_rejected, Rejected(where, "GT: is empty", str(row)[:2000])
                )
                continue
            kind, content, extra = _content(task, row)
            refs = _refs(row)
            refs.update(extra)
            data = {
                "kind": kind,
                "lang": "en",
                "eval_only": True,
                "domain": bench_domain(name),
                "content": content,
                "refs": refs,
                "source": bench_source(
                    name,
                    "ctibench",
                    options,
                    original_id=f"{task}:{reader.line_num - 1}",
                    url=refs["urls"][0] if refs["urls"] else None,
                ),
            }
            try:
                yield build_record(data, where)
            except SourceError as e:
                reject_or_raise(
                    on_reject or skip_rejected, Rejected(where, e.message, str(row)[:2000])
                )
