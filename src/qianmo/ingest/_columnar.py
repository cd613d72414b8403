"""Readers for columnar data: Parquet files and Hugging Face `datasets` folders.

Both stream record batches from Arrow, so memory stays flat; a row is named by its number
(1 for the first row).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from qianmo.ingest._registry import ReadOptions, Row, reader

BATCH_ROWS = 1000
_HF_MARKERS = ("dataset_info.json", "dataset_dict.json", "state.json")


def _plain(value: Any) -> Any:
    """Arrow hands back dates and nested values; keep what JSON can say, dates as ISO text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _rows(batches: Iterator[dict[str, list[Any]]], label: str) -> Iterator[Row]:
    n = 0
    for batch in batches:
        columns = list(batch)
        for values in zip(*(batch[c] for c in columns), strict=True):
            n += 1
            data = {c: _plain(v) for c, v in zip(columns, values, strict=True) if v is not None}
            yield Row(f"{label}:row {n}", data)


def _is_parquet(path: Path, head: bytes) -> bool:
    return head[:4] == b"PAR1"


@reader("parquet", extensions=("parquet", "pq"), sniff=_is_parquet, description="Apache Parquet")
def read_parquet(path: Path, options: ReadOptions) -> Iterator[Row]:
    pf = pq.ParquetFile(path)
    batches = (b.to_pydict() for b in pf.iter_batches(batch_size=BATCH_ROWS))
    yield from _rows(batches, str(path))


def _is_hf_folder(path: Path, head: bytes) -> bool:
    return path.is_dir() and any((path / m).is_file() for m in _HF_MARKERS)


@reader(
    "hf",
    sniff=_is_hf_folder,
    priority=1,
    description="a Hugging Face datasets folder written by save_to_disk",
)
def read_hf(path: Path, options: ReadOptions) -> Iterator[Row]:
    # Never reach for the hub: the folder is all there is.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import datasets

    loaded = datasets.load_from_disk(str(path))
    splits = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [("", loaded)]
    for split, ds in splits:
        label = f"{path}:{split}" if split else str(path)
        yield from _rows(iter(ds.iter(batch_size=BATCH_ROWS)), label.rstrip(":"))
