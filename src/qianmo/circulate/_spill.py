"""The identity columns of a check's tables (record id, version, content hash), kept on disk.

A check keeps a row for every selected record until its release is stored. Held in memory as
Arrow strings and numbers, the identity columns were ~75 bytes a record, most of what grew with
the release. They are only ever read in id order, a page at a time (the decision table, the
members digest, the snapshot rows, listings), so they are written to a temporary Arrow IPC file
as the check reads its pages and read back the same way: by ordinary reads, not a memory map,
whose pages would count as resident. What stays in memory per record is a few numbers and the
lineage root and cluster. bench/release_bench.py's peak RSS at 100,000 / 500,000 records: 239 /
308 MB with the columns in memory, 237 / 263–267 MB with them here.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SCHEMA = pa.schema([("id", pa.string()), ("version", pa.int64()), ("content_hash", pa.string())])


class Spill:
    """Rows of `SCHEMA` in id order, appended page by page, then read page by page."""

    def __init__(self) -> None:
        fd, self._path = tempfile.mkstemp(prefix="qianmo-rows-", suffix=".arrow")
        os.close(fd)
        # removed when the spill is collected, and at exit for one still held then (a
        # NamedTemporaryFile's was left behind by a process that ended holding a report)
        weakref.finalize(self, _remove, self._path)
        self._writer: Any = pa.ipc.new_file(self._path, SCHEMA)
        self.rows = 0

    def __len__(self) -> int:
        return self.rows

    def append(self, batch: pa.RecordBatch) -> None:
        if self._writer is None:
            raise ValueError("the spill is closed for writing")
        if len(batch):
            self._writer.write_batch(batch.select(SCHEMA.names).cast(SCHEMA))
            self.rows += len(batch)

    def done(self) -> Spill:
        """Stop writing (once): from now on the rows can be read."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        return self

    def pages(self) -> Iterator[pa.RecordBatch]:
        self.done()
        with pa.OSFile(self._path) as f:
            reader = pa.ipc.open_file(f)
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i)

    def spans(self) -> Iterator[tuple[slice, pa.RecordBatch]]:
        """Each page with the positions of its rows: the slice of a per-row column kept in
        memory (codes, splits) that goes with it."""
        start = 0
        for page in self.pages():
            yield slice(start, start + len(page)), page
            start += len(page)

    def filter(self, keep: np.ndarray[Any, Any]) -> Spill:
        """A new spill of the rows where `keep` holds."""
        out = Spill()
        for at, page in self.spans():
            out.append(page.filter(pa.array(keep[at])))
        return out.done()

    def ids_at(self, positions: np.ndarray[Any, Any]) -> list[str]:
        """The ids of the rows at `positions` (in any order), in that order."""
        order = np.argsort(positions, kind="stable")
        wanted, found = positions[order], []
        for at, page in self.spans():
            lo, hi = np.searchsorted(wanted, [at.start, at.stop])
            if hi > lo:
                found += page.column(0).take(pa.array(wanted[lo:hi] - at.start)).to_pylist()
        out: list[str] = [""] * len(positions)
        for k, rid in zip(order.tolist(), found, strict=True):
            out[k] = rid
        return out


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def merge_sorted(
    a: Iterable[pa.RecordBatch], b: Iterable[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """The rows of two streams of batches of one schema, each sorted by its first column,
    merged in that order. Each step takes what is buffered on both sides up to the smaller of
    their last keys, so memory holds about a page of each side, never a merged copy."""
    sides = [iter(a), iter(b)]
    buffers: list[Any] = [None, None]
    while True:
        for k in (0, 1):
            while buffers[k] is None or not len(buffers[k]):
                buffers[k] = next(sides[k], None)
                if buffers[k] is None:
                    break
        x, y = buffers
        if x is None or y is None:
            rest = x if y is None else y
            if rest is not None:
                yield rest
                yield from sides[0 if y is None else 1]
            return
        bound = min(x.column(0)[-1].as_py(), y.column(0)[-1].as_py())
        nx = pc.sum(pc.less_equal(x.column(0), bound)).as_py() or 0
        ny = pc.sum(pc.less_equal(y.column(0), bound)).as_py() or 0
        part = pa.Table.from_batches([x.slice(0, nx), y.slice(0, ny)]).combine_chunks()
        yield part.take(pc.sort_indices(part.column(0))).to_batches()[0]
        buffers = [x.slice(nx), y.slice(ny)]
