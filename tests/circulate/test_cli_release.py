"""`qianmo release create|export|verify|diff` and the demo step, end to end in a workspace."""

from __future__ import annotations

from pathlib import Path

import orjson

from qianmo.circulate import get_release
from qianmo.cli._common import console
from qianmo.cli._demo_context import DemoContext
from qianmo.cli.release import demo_step
from qianmo.settings import get_settings
from qianmo.standard import Status
from qianmo.store import Worker, list_jobs, open_workspace, set_status
from tests.circulate.test_check import _workspace_with_records
from tests.circulate.test_release import corpus

RELEASE = ["--audience", "members", "--use", "research"]


def test_create_export_verify_diff(cli, workspace_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    records = corpus(40)
    db = _workspace_with_records(cli, records)
    res = cli("release", "create", "cti", "--version", "1.0.0", *RELEASE, "--json")
    assert res.code == 0, res.err
    first = orjson.loads(res.out)
    assert first["records"] == 40 and sum(first["splits"].values()) == 40
    res = cli("release", "create", "cti", "--version", "1.0.0", *RELEASE)
    assert res.code == 1 and "immutable" in res.err
    for fmt in ("jsonl", "parquet", "hf"):
        res = cli("release", "export", "cti@1.0.0", "--format", fmt, "--out", str(tmp_path / fmt))
        assert res.code == 0, res.err
        assert cli("release", "verify", str(tmp_path / fmt)).code == 0
    (tmp_path / "jsonl" / "NOTICE").write_text("changed")
    res = cli("release", "verify", str(tmp_path / "jsonl"))
    assert res.code == 1 and "NOTICE: checksum mismatch" in res.err
    res = cli("release", "export", "cti", "--format", "jsonl", "--out", str(tmp_path / "jsonl"))
    assert res.code == 1 and "not an empty folder" in res.err
    with db.write() as s:
        set_status(s, [records[0].id], Status.WITHDRAWN, reason="x", actor="org-a")
    assert cli("release", "create", "cti", "--version", "1.1.0", *RELEASE).code == 0
    diff = orjson.loads(cli("release", "diff", "cti@1.0.0", "cti@1.1.0", "--json").out)
    assert diff["removed"] == [records[0].id] and diff["added"] == []
    res = cli("release", "diff", "cti@1.0.0", "cti@1.1.0")
    assert "1 removed" in res.out and f"- {records[0].id}" in res.out


def test_create_refused_outright(cli, workspace_home: Path) -> None:  # type: ignore[no-untyped-def]
    _workspace_with_records(cli, corpus(3))
    res = cli("release", "create", "x", "--version", "1.0.0", *RELEASE, "--filter", "status=raw")
    assert res.code == 1 and "status.not_accepted" in res.err
    assert "Traceback" not in res.err and len(res.err.strip().splitlines()) == 1
    res = cli(
        "release",
        "create",
        "x",
        "--version",
        "1.0.0",
        "--audience",
        "public",
        "--use",
        "research",
        "--filter",
        "kind=code",
    )
    assert res.code == 1 and "no records" in res.err


def test_demo_step(cli, workspace_home: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").code == 0
    settings = get_settings()
    ctx = DemoContext(db=open_workspace(settings), settings=settings, console=console, serve=False)
    demo_step(ctx)  # nothing accepted yet: says so rather than fail
    _workspace_with_records(cli, corpus(20))
    demo_step(ctx)
    demo_step(ctx)  # a second run reuses the release and its export
    out = workspace_home / "exports" / "qianmo-demo-1.0.0"
    assert (out / "manifest.json").exists()
    assert cli("release", "verify", str(out)).code == 0


def test_queued_release_is_built_by_a_worker(cli, workspace_home: Path) -> None:  # type: ignore[no-untyped-def]
    db = _workspace_with_records(cli, corpus(12))
    res = cli("release", "create", "q", "--version", "0.1.0", *RELEASE, "--queue")
    assert res.code == 0 and "queued release job" in res.out
    assert Worker(db).run_one()
    with db.read() as s:
        (job,) = list_jobs(s, status="done")
        assert job.kind == "release" and job.result is not None
        assert job.result["records"] == 12 and get_release(s, "q").version == "0.1.0"
