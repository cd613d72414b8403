"""Per-record state of a run kept on disk, so the driver's memory stays flat.

The driver used to hold, for every selected record, its id in a set and, for each dedup
step, a `Member` and a signature or content hash: about 2 KB a record of Python objects
(216 MiB at 100,000 records, and the garbage collector walked them all again and again:
12 of 77 CPU seconds of a first run). Now a run writes them to a temporary SQLite file
(no journal, no syncing: it dies with the run) and a flat file of signatures, and reads back
only what a decision needs: the members of candidate groups, the signatures of candidate
pairs, the ids of the final pass a chunk at a time. What stays in memory per record is a
handful of bytes in numpy arrays that the corpus-wide grouping sorts (content-hash prefixes,
one band of LSH keys at a time).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np


class Scratch:
    """A run's temporary store: `seen` (every selected id, in order) and tables of steps."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="qianmo-run-")
        self.path = self._dir.name
        self.db = sqlite3.connect(os.path.join(self.path, "scratch.db"), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        # a later pass may meet a record the first did not (added meanwhile): a set of ids
        self.db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY) WITHOUT ROWID")
        self._tables = 0

    def insert(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Rows in one transaction (each its own, without one, cost 50 µs a row)."""
        self.db.execute("BEGIN")
        try:
            self.db.executemany(sql, rows)
        finally:
            self.db.execute("COMMIT")

    def add_seen(self, ids: Sequence[str]) -> None:
        self.insert("INSERT OR IGNORE INTO seen VALUES (?)", [(i,) for i in ids])

    @property
    def seen(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM seen").fetchone()[0])

    def seen_chunks(self, size: int) -> Iterator[list[str]]:
        """Every selected id in id order, `size` at a time."""
        after = ""
        while True:
            query = "SELECT id FROM seen WHERE id > ? ORDER BY id LIMIT ?"
            ids = [r[0] for r in self.db.execute(query, (after, size))]
            if not ids:
                return
            yield ids
            after = ids[-1]

    def table(self, columns: str) -> str:
        """A new table `(n INTEGER PRIMARY KEY, <columns>)`; returns its name."""
        self._tables += 1
        name = f"t{self._tables}"
        self.db.execute(f"CREATE TABLE {name} (n INTEGER PRIMARY KEY, {columns})")
        return name

    def rows(self, table: str, columns: str, ns: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        """Rows of `table` by number, read 500 at a time."""
        out: dict[int, tuple[Any, ...]] = {}
        ns = sorted(set(ns))
        for s in range(0, len(ns), 500):
            part = ns[s : s + 500]
            marks = ", ".join("?" * len(part))
            query = f"SELECT n, {columns} FROM {table} WHERE n IN ({marks})"
            out.update((row[0], row[1:]) for row in self.db.execute(query, part))
        return out

    def close(self) -> None:
        self.db.close()
        self._dir.cleanup()


class Spill:
    """Rows of a fixed-width numpy array appended to a file, read back by row number."""

    def __init__(self, path: str, width: int, dtype: Any) -> None:
        self.path, self.width, self.dtype = path, width, np.dtype(dtype)
        self.rows = 0
        self._file = open(path, "wb")  # noqa: SIM115  (closed by `close`)

    def append(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=self.dtype).reshape(-1, self.width)
        block.tofile(self._file)
        self.rows += len(block)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows start..stop, read into memory (a slice: the file is not kept mapped)."""
        self._file.flush()
        count = max(0, min(stop, self.rows) - start) * self.width
        offset = start * self.width * self.dtype.itemsize
        flat = np.fromfile(self.path, dtype=self.dtype, count=count, offset=offset)
        return flat.reshape(-1, self.width)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The given rows (few: candidate pairs), through a short-lived memory map."""
        self._file.flush()
        if self.rows == 0 or len(rows) == 0:
            return np.empty((len(rows), self.width), dtype=self.dtype)
        mapped = np.memmap(self.path, dtype=self.dtype, mode="r", shape=(self.rows, self.width))
        out = np.array(mapped[rows])
        del mapped
        return out

    def close(self) -> None:
        self._file.close()
