from __future__ import annotations

import json
import shutil
from pathlib import Path

from rich.console import Console

from qianmo.cli._common import workspace
from qianmo.cli._demo_context import DemoContext
from qianmo.cli.sync import demo_step
from qianmo.settings import Settings
from qianmo.store import RecordFilter, Worker, list_jobs, list_records, parents
from tests.conftest import CliResult

FIX = Path(__file__).parent / "fixtures"


def _json(result: CliResult) -> dict:  # type: ignore[type-arg]
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_sync_once_then_no_change_then_one_change(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").code == 0
    mirror = tmp_path / "cvelist"
    shutil.copytree(FIX / "cve", mirror)
    first = _json(cli("sync", "cve", str(mirror), "--json"))
    assert (first["added"], first["withdrawn"]) == (3, 1) and first["items_added"] > 0
    again = _json(cli("sync", "cve", str(mirror), "--json"))
    assert (again["unchanged"], again["added"], again["items_added"]) == (3, 0, 0)
    assert again["input_unchanged"] is True
    text = cli("sync", "cve", str(mirror))
    assert text.code == 0 and "skipped, the same bytes as the last import" in text.out
    full = _json(cli("sync", "cve", str(mirror), "--json", "--full"))  # parsed and compared
    assert (full["unchanged"], full["updated"], full["items_added"]) == (3, 0, 0)
    assert full["input_unchanged"] is False
    path = mirror / "CVE-2030-0001.json"
    data = json.loads(path.read_text())
    data["containers"]["cna"]["title"] = "Stored and reflected XSS in Lotus Wiki"
    path.write_text(json.dumps(data))
    third = _json(cli("sync", "cve", str(mirror), "--json"))
    assert (third["updated"], third["unchanged"]) == (1, 2)
    assert third["items_updated"] >= 2  # the severity MCQ names the title, in zh and en


def test_sync_since_and_errors(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").code == 0
    recent = _json(cli("sync", "cve", str(FIX / "cve"), "--since", "2030-01-25", "--json"))
    assert recent["added"] == 2  # CVE-2030-0001 (updated 2030-02-01) and -0003; -0002 older
    bad = cli("sync", "cve", str(FIX / "cve"), "--since", "yesterday")
    assert bad.code == 1 and "--since" in bad.err
    unknown = cli("sync", "cybermetric", str(FIX / "bench" / "cybermetric.json"))
    assert unknown.code == 1 and "unknown source" in unknown.err
    assert cli("sync", "cve", str(tmp_path / "missing")).code == 1
    # the wrong source for the file: its problem listed, exit 1, nothing withdrawn
    wrong = cli("sync", "attack", str(FIX / "kev.json"))
    assert wrong.code == 1 and "nothing could be read as attack" in wrong.err
    assert "not a STIX object or bundle" in wrong.out and "Traceback" not in wrong.err
    as_json = cli("sync", "cve", str(FIX / "kev.json"), "--json")
    assert as_json.code == 1 and json.loads(as_json.out)["withdrawn"] == 0


def test_sync_every_queues_a_recurring_job(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").code == 0
    queued = _json(cli("sync", "kev", str(FIX / "kev.json"), "--every", "6h", "--json"))
    assert queued["every_s"] == 6 * 3600
    db = workspace()
    assert Worker(db).run_one(queued["job"])
    with db.read() as s:
        jobs = list_jobs(s, limit=10)
        done = next(j for j in jobs if j.id == queued["job"])
        assert done.status == "done" and done.result["added"] == 4
        nxt = next(j for j in jobs if j.id == done.result["next_job"])
        assert nxt.status == "queued" and nxt.run_after is not None
    assert cli("sync", "kev", str(FIX / "kev.json"), "--every", "5s").code == 1


def test_ingest_registry_formats_and_detection(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").code == 0
    out = cli("ingest", str(FIX / "bench" / "cti-rcm.tsv"))  # auto-detected as ctibench
    assert out.code == 0, out.err
    assert "[ctibench]" in out.out
    out = cli("ingest", str(FIX / "cve"), "--format", "cve")
    assert out.code == 0, out.err
    db = workspace()
    with db.read() as s:
        recs = list_records(s, RecordFilter.of(source="cve"), limit=500)
        rcm = list_records(s, RecordFilter.of(source="ctibench-rcm"), limit=5)
    docs = {r.source.original_id: r for r in recs if r.kind.value == "document"}
    assert sorted(docs) == ["CVE-2030-0001", "CVE-2030-0002", "CVE-2030-0003"]
    assert docs["CVE-2030-0002"].status.value == "withdrawn"  # rejected upstream
    items = [r for r in recs if r.kind.value != "document"]
    roots = {d.id for d in docs.values() if d.status.value != "withdrawn"}
    assert items and all(i.lineage.root in roots for i in items)
    assert rcm[0].eval_only and rcm[0].source.license == "CC-BY-NC-SA-4.0"


def test_demo_step_imports_bundled_sources(db) -> None:  # type: ignore[no-untyped-def]
    ctx = DemoContext(db=db, settings=Settings(), console=Console(quiet=True), serve=False)
    demo_step(ctx)
    assert ctx.state["sources"]["documents"] > 20 and ctx.state["sources"]["items"] > 100
    with db.read() as s:
        assert parents(s, "cwe", "CWE-79", "ChildOf") == ["CWE-74"]
        kev = list_records(s, RecordFilter.of(tag="kev"), limit=10)
    assert {r.source.original_id for r in kev} >= {"CVE-2030-0001", "CVE-2030-0009"}
    demo_step(ctx)  # again: nothing new
    assert ctx.state["sources"] == {"documents": 0, "items": 0}
