"""The command line contract: exit codes, one-line errors, --json output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from sqlalchemy import text

from qianmo.cli._common import err_console, run_app
from qianmo.settings import Settings
from qianmo.store import add_records, init_workspace
from tests.conftest import CliResult
from tests.helpers.records import make_record


@pytest.fixture
def loaded(cli, workspace_home: Path):  # type: ignore[no-untyped-def]
    assert cli("init").code == 0
    db = init_workspace(Settings(home=workspace_home))
    recs = [
        make_record(
            "qa",
            lang="zh",
            domain="vuln.web",
            content={"question": "什么是SQL注入？", "answer": "一种注入攻击。"},
        ),
        make_record("mcq", domain="threat.intel", published_at="2024-02-01"),
        make_record(content={"text": "[bold]markup[/bold] <img src=x onerror=alert(1)>"}),
    ]
    with db.write() as s:
        add_records(s, recs, actor="t")
    db.dispose()
    return recs


def test_commands_without_a_workspace_say_so(cli) -> None:  # type: ignore[no-untyped-def]
    result: CliResult = cli("records", "list")
    assert result.code == 1
    assert "no workspace" in result.err and "qianmo init" in result.err
    assert "Traceback" not in result.err


def test_usage_error_exits_2(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("records", "list", "--no-such-flag").code == 2


def test_records_list_json_and_filters(cli, loaded) -> None:  # type: ignore[no-untyped-def]
    result = cli("records", "list", "--json", "--lang", "zh")
    assert result.code == 0
    rows = json.loads(result.out)
    assert [r["id"] for r in rows] == [loaded[0].id]


def test_records_search_chinese(cli, loaded) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(cli("records", "search", "注入", "--json").out)
    assert [r["id"] for r in rows] == [loaded[0].id]


def test_payloads_print_literally(cli, loaded) -> None:  # type: ignore[no-untyped-def]
    out = cli("records", "list").out
    assert "[bold]" in out  # had rich read it as markup, the brackets would be gone


def test_stats_json(cli, loaded) -> None:  # type: ignore[no-untyped-def]
    result = json.loads(cli("records", "stats", "--by", "domain:top", "--json").out)
    assert result["counts"] == {"vuln": 1, "threat": 1, "(none)": 1} and result["total"] == 3


def test_bad_filter_is_one_line_exit_1(cli, loaded) -> None:  # type: ignore[no-untyped-def]
    result = cli("records", "stats", "--filter", "colour=red")
    assert result.code == 1 and "unknown filter key 'colour'" in result.err


def test_show_missing_record(cli, loaded) -> None:  # type: ignore[no-untyped-def]
    result = cli("records", "show", "NOPE")
    assert result.code == 1 and "no record NOPE" in result.err


def test_audit_verify_and_log(cli, loaded) -> None:  # type: ignore[no-untyped-def]
    assert cli("audit", "verify").code == 0
    log = json.loads(cli("audit", "log", "--json").out)
    assert log[0]["action"] == "records.add" and log[0]["count"] == 3


def test_schema_export_to_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "schema.json"
    assert cli("schema", "export", "--out", str(out)).code == 0
    assert json.loads(out.read_text())["title"].startswith("qianmo record")


def test_taxonomy_in_chinese(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("taxonomy", "show", "--lang", "zh", "--json")
    labels = {d["code"]: d["label"] for d in json.loads(result.out)["domains"]}
    assert labels["aisec"] == "人工智能安全"


def test_ctrl_c_exits_130(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import qianmo.cli.standard as standard

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(standard, "load_taxonomy", interrupted)
    assert cli("taxonomy", "show").code == 130


def test_audit_verify_fails_on_a_tampered_chain(cli, loaded, workspace_home: Path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    with sqlite3.connect(workspace_home / "qianmo.db") as conn:
        conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1")
    result = cli("audit", "verify", "--json")
    assert result.code == 1
    assert json.loads(result.out)["first_bad_entry"] == 1
    assert "audit entry 1: altered" in result.err


def test_a_command_opens_its_workspace_once_and_closes_it_at_the_end(cli) -> None:  # type: ignore[no-untyped-def]
    from qianmo.cli import _common

    assert cli("init").code == 0
    seen: list[object] = []
    probe = typer.Typer()

    @probe.command()
    def twice() -> None:
        first = _common.workspace()
        with first.read() as s:
            s.execute(text("SELECT 1"))
        seen.extend([first, _common.workspace(), first.engine.pool.checkedin()])

    assert run_app(probe, err_console, []) == 0
    assert seen[0] is seen[1]
    assert seen[2] == 1  # the connection went back to the pool and stayed open meanwhile
    assert _common._open == {}
    assert seen[0].engine.pool.checkedin() == 0  # type: ignore[attr-defined]


def test_the_imported_modules_are_kept_out_of_the_collectors_scans(cli) -> None:  # type: ignore[no-untyped-def]
    import gc

    gc.unfreeze()
    assert cli("--help").code == 0
    assert gc.get_freeze_count() > 10_000
