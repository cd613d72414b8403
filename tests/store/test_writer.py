"""SQLite writers queue on one lock across threads and processes (a file lock beside the db)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from qianmo.store._writer import WriterLock

HOLD = """
import sys, time
from qianmo.store._writer import WriterLock
with WriterLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(0.6)
"""


def test_a_writer_in_another_process_waits_for_the_holder(tmp_path: Path) -> None:
    path = str(tmp_path / "qianmo.db-writer")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, path], stdout=subprocess.PIPE, text=True, env=env
    ) as holder:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        start = time.monotonic()
        with WriterLock(path):  # got only once the other process let go of it
            waited = time.monotonic() - start
    assert waited >= 0.3


def test_reentrant_in_a_thread_and_nothing_left_open(tmp_path: Path) -> None:
    lock = WriterLock(str(tmp_path / "db-writer"))
    open_before = len(os.listdir("/proc/self/fd"))
    with lock, lock:  # a nested write in the same thread does not wait on itself
        assert len(os.listdir("/proc/self/fd")) == open_before + 1
    assert len(os.listdir("/proc/self/fd")) == open_before
