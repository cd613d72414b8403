"""Executors agree: in-process, a process pool and Ray keep the same records and clusters.

Small pages spread the corpus over many tasks, so near dedup has to be right across shards.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

from qianmo.quality import RunOptions, default_pipeline, run_quality
from qianmo.standard import Record
from qianmo.store import add_records, list_records
from tests.helpers.db import fresh_database
from tests.helpers.quality import quality_corpus


def _outcome(tmp_path: Path, name: str, records: list[Record], **options: Any) -> dict[str, Any]:
    path = tmp_path / name
    path.mkdir()
    with fresh_database(path) as db:
        with db.write() as s:
            add_records(s, records, actor="test")
        run_quality(db, RunOptions(pipeline=default_pipeline(), page_size=3, **options), actor="t")
        with db.read() as s:
            got = list_records(s, limit=1000)
    return {
        "kept": sorted(r.id for r in got if r.status.value != "rejected"),
        "reasons": sorted((r.id, r.status_reason) for r in got),
        "clusters": sorted(
            (r.id, r.quality.flags["duplicate"]["cluster"])
            for r in got
            if "duplicate" in r.quality.flags
        ),
        "texts": sorted((r.id, r.text()) for r in got),
    }


def test_process_pool_agrees_with_in_process(tmp_path: Path) -> None:
    records = quality_corpus()
    one = _outcome(tmp_path, "one", records, workers=1)
    pool = _outcome(tmp_path, "pool", records, workers=2)
    assert one == pool
    assert one["clusters"]


@pytest.mark.ray
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs the ray extra")
def test_ray_agrees_with_local(tmp_path: Path) -> None:
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    records = quality_corpus()
    local = _outcome(tmp_path, "local", records, workers=1)
    ray = _outcome(tmp_path, "ray", records, executor="ray", workers=2)
    assert ray == local
    assert len({c for _, c in local["clusters"]}) >= 2
