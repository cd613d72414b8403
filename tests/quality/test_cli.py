"""`qianmo quality run|report|steps`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qianmo.settings import Settings
from qianmo.store import add_records, init_workspace
from tests.helpers.quality import quality_corpus


@pytest.fixture
def loaded(cli, workspace_home: Path):  # type: ignore[no-untyped-def]
    assert cli("init").code == 0
    db = init_workspace(Settings(home=workspace_home))
    with db.write() as s:
        add_records(s, quality_corpus(), actor="t")
    db.dispose()


def test_run_and_report(cli, loaded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("quality", "run", "--json", "--workers", "1")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["records"] == 11 and summary["rejected"] == 4
    out = tmp_path / "r.html"
    report = cli("quality", "report", "--html", str(out))
    assert report.code == 0, report.err
    assert "near_dedup" in report.out and "rejected" in report.out
    page = out.read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page and "src=" not in page
    data = json.loads(cli("quality", "report", summary["run"], "--json", "--html", str(out)).out)
    assert data["summary"]["records"] == 11


def test_steps_option_and_errors(cli, loaded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("quality", "run", "--steps", "normalize,pii", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["rejected"] == 0
    bad = cli("quality", "run", "--steps", "normalize,nope")
    assert bad.code == 1 and "unknown step 'nope'" in bad.err
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text("steps:\n  - heuristics:\n      max_symbols: lots\n")
    bad = cli("quality", "run", "--pipeline", str(pipeline))
    assert bad.code == 1 and "p.yaml:2" in bad.err and "Traceback" not in bad.err
    assert cli("quality", "report", "NOPE").code == 1
    assert "near_dedup" in cli("quality", "steps").out
