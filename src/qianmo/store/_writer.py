"""One SQLite writer at a time, across the threads of a process and across processes.

Writers queue on a lock instead of SQLite's busy handler, which polls with growing sleeps:
under 20 concurrent writers some waited seconds while others went through in milliseconds
(p95 1.8 s at p50 26 ms). A thread lock alone only queues the writers of one process, and
`qianmo serve` answers in one process per core: with two, a label's p95 over HTTP was 250 ms
at p50 71 ms (one process: p95 172 ms at p50 114 ms, bench/annotate_load.py). So the first
holder in a process also takes an exclusive `flock` on a file beside the database, which the
kernel hands from process to process as each lets go, without polling.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType

try:
    import fcntl
except ImportError:  # not on Windows: processes fall back to SQLite's busy handler
    fcntl = None  # type: ignore[assignment]


class WriterLock:
    """Reentrant in a thread (a nested write waits on SQLite, as before); `path` None: this
    process only (an in-memory database)."""

    def __init__(self, path: str | None) -> None:
        self._thread = threading.RLock()
        self._path = path if fcntl is not None else None
        self._fd: int | None = None  # open while held; guarded by `_thread`
        self._depth = 0

    def __enter__(self) -> WriterLock:
        self._thread.acquire()
        if self._depth == 0 and self._path is not None:
            # Opened per hold (a few µs against a write's milliseconds): nothing stays open for
            # every database a process ever touched, and no descriptor is inherited by a fork.
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # blocks in the kernel, with the GIL released
            except BaseException:
                os.close(fd)
                self._thread.release()
                raise
            self._fd = fd
        self._depth += 1
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing lets go of the flock
        self._thread.release()
