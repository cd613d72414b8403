"""Readers for row formats: JSON Lines, JSON (an array, or an object holding one), CSV and TSV.

Every reader streams: memory stays flat however large the file (JSON through ijson).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson
import orjson

from qianmo.ingest._registry import ReadOptions, Row, reader

# A CSV cell may hold a whole advisory; the csv module's 128 KiB default is too small.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _first_lines(head: bytes, n: int) -> list[bytes]:
    return [ln.strip() for ln in head.split(b"\n")[: n * 4] if ln.strip()][:n]


def _looks_like_jsonl(path: Path, head: bytes) -> bool:
    """Two or more lines that each hold a whole JSON object (a `.json` file may be JSONL too)."""
    lines = _first_lines(head, 2)
    if len(lines) < 2 or not all(ln.startswith(b"{") for ln in lines):
        return False
    try:
        return isinstance(orjson.loads(lines[0]), dict)
    except orjson.JSONDecodeError:
        return False


def _looks_like_json(path: Path, head: bytes) -> bool:
    return head.lstrip()[:1] in (b"[", b"{")


@reader(
    "jsonl",
    extensions=("jsonl", "ndjson"),
    sniff=_looks_like_jsonl,
    priority=1,
    description="JSON Lines: one object per line",
)
def read_jsonl(path: Path, options: ReadOptions) -> Iterator[Row]:
    with path.open("rb") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError as e:
                text = line.decode("utf-8", errors="replace").rstrip("\n")
                yield Row(where, None, raw=text, problem=f"invalid JSON: {e}")
                continue
            if isinstance(data, dict):
                yield Row(where, data)
            else:
                yield Row(where, None, raw=line.decode().rstrip("\n"), problem="not a JSON object")


def _array_key(path: Path) -> str | None:
    """The key of the first top-level array of objects in a JSON object (`{"questions": […]}`)."""
    with path.open("rb") as f:
        for prefix, event, _ in ijson.parse(f):
            if event == "start_array" and prefix and "." not in prefix:
                return str(prefix)
            if event == "end_map" and prefix == "":
                return None
    return None


def _elements(path: Path, prefix: str) -> Iterator[Any]:
    with path.open("rb") as f:
        yield from ijson.items(f, prefix, use_float=True)


def _json_rows(path: Path, prefix: str, label: str) -> Iterator[Row]:
    index = -1
    try:
        for index, item in enumerate(_elements(path, prefix)):
            where = f"{path}{label}[{index}]"
            if isinstance(item, dict):
                yield Row(where, item)
            else:
                yield Row(where, None, raw=orjson.dumps(item).decode(), problem="not an object")
    except ijson.JSONError as e:
        yield Row(f"{path}{label}[{index + 1}]", None, raw="", problem=f"invalid JSON: {e}")


@reader(
    "json",
    extensions=("json",),
    sniff=_looks_like_json,
    description="JSON: an array of objects, an object holding one, or one object",
)
def read_json(path: Path, options: ReadOptions) -> Iterator[Row]:
    with path.open("rb") as f:
        start = f.read(4096).lstrip()[:1]
    if start == b"[":
        yield from _json_rows(path, "item", "")
        return
    try:
        key = _array_key(path)
    except ijson.JSONError as e:
        yield Row(str(path), None, raw="", problem=f"invalid JSON: {e}")
        return
    if key is not None:
        yield from _json_rows(path, f"{key}.item", f":{key}")
        return
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        yield Row(str(path), None, raw="", problem=f"invalid JSON: {e}")
        return
    yield Row(str(path), data) if isinstance(data, dict) else Row(str(path), None, problem="empty")


def _delimited(path: Path, delimiter: str) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = csv.reader(f, delimiter=delimiter)
        header = next(rows, None)
        if header is None:
            return
        header = [h.strip() for h in header]
        end = rows.line_num
        for cells in rows:
            # A quoted cell may span lines: the row starts on the line after the previous one.
            start, end = end + 1, rows.line_num
            if not cells:
                continue
            where = f"{path}:{start}"
            if len(cells) != len(header):
                raw = orjson.dumps(cells).decode()
                reason = f"has {len(cells)} fields, the header has {len(header)}"
                yield Row(where, None, raw=raw, problem=reason)
                continue
            # An empty cell is a missing value, so a required field says "is required".
            yield Row(where, {k: v for k, v in zip(header, cells, strict=True) if v != ""})


@reader("csv", extensions=("csv",), description="CSV with a header row")
def read_csv(path: Path, options: ReadOptions) -> Iterator[Row]:
    yield from _delimited(path, options.extra.get("delimiter", ","))


@reader("tsv", extensions=("tsv", "tab"), description="TSV with a header row")
def read_tsv(path: Path, options: ReadOptions) -> Iterator[Row]:
    yield from _delimited(path, "\t")
