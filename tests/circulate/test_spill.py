"""Identity rows kept on disk: read back in order, filtered, picked by position, cleaned up."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa

import qianmo
from qianmo.circulate._spill import SCHEMA, Spill


def _page(start: int, stop: int) -> pa.RecordBatch:
    ids = [f"r{i:03d}" for i in range(start, stop)]
    return pa.record_batch(
        [ids, list(range(start, stop)), [f"h{i}" for i in range(start, stop)]], schema=SCHEMA
    )


def test_rows_come_back_page_by_page_and_by_position() -> None:
    spill = Spill()
    for start, stop in ((0, 4), (4, 4), (4, 9)):  # an empty page is skipped
        spill.append(_page(start, stop))
    assert len(spill) == 9
    assert [p.num_rows for p in spill.pages()] == [4, 5]
    assert spill.ids_at(np.array([7, 0, 4, 3])) == ["r007", "r000", "r004", "r003"]
    kept = spill.filter(np.arange(9) % 3 == 0)
    assert [r for p in kept.pages() for r in p.column("id").to_pylist()] == ["r000", "r003", "r006"]
    assert list(Spill().pages()) == []


def test_the_file_goes_with_the_spill() -> None:
    spill = Spill()
    spill.append(_page(0, 2))
    path = spill._path
    assert os.path.exists(path)
    del spill
    gc.collect()
    assert not os.path.exists(path)


def test_the_file_goes_when_a_process_ends_holding_the_spill(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from qianmo.circulate._spill import Spill\n"
        "held = Spill()\n"
        "print(held._path)\n"
        "sys.exit(0)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(qianmo.__file__).parents[1])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    path = done.stdout.strip()
    assert path and not os.path.exists(path)
