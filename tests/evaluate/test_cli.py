"""`qianmo eval …` end to end in a workspace, against a real local server."""

from __future__ import annotations

import json
from typing import Any

from qianmo.settings import Settings
from qianmo.store import init_workspace
from tests.conftest import CliResult
from tests.helpers.evaluate import add, mcq
from tests.helpers.openai_server import OpenAIServer


def _seed(workspace_home: Any) -> None:
    db = init_workspace(Settings(home=workspace_home))
    add(db, [mcq("B", n=i) for i in range(5)] + [mcq("C", n=7, lang="zh")])
    db.dispose()


def test_suite_run_rescore_report_leaderboard(cli: Any, workspace_home: Any) -> None:
    _seed(workspace_home)
    made = cli("eval", "suite", "create", "ctisuite", "--filter", "source=evaltest", "--json")
    assert made.code == 0, made.err
    assert json.loads(made.out)["items"] == 6 and json.loads(made.out)["version"] == 1
    listed: CliResult = cli("eval", "suites", "--json")
    assert [s["name"] for s in json.loads(listed.out)] == ["ctisuite"]
    with OpenAIServer(lambda body: "答案：B") as server:
        ran = cli(
            "eval",
            "run",
            "--suite",
            "ctisuite",
            "--model",
            "m1",
            "--base-url",
            server.url,
            "--concurrency",
            "4",
            "--cutoff",
            "2024-01-01",
            "--json",
        )
        assert ran.code == 0, ran.err
        summary = json.loads(ran.out)
        assert summary["accuracy"] == round(5 / 6, 4) and summary["by_lang"]["zh"]["accuracy"] == 0
        assert "timeliness" in summary and len(server.requests) == 6
        table = cli("eval", "run", "--suite", "ctisuite", "--model", "m1", "--base-url", server.url)
        assert table.code == 0 and "accuracy 83.3%" in table.out and len(server.requests) == 6
    again = cli("eval", "rescore", summary["run"], "--scorer", "jaccard", "--json")
    assert again.code == 0 and json.loads(again.out)["accuracy"] == summary["accuracy"]
    report = cli("eval", "report", summary["run"], "--json")
    assert json.loads(report.out)["n"] == 6
    board = cli("eval", "leaderboard", "--suite", "ctisuite", "--json")
    assert [r["model"] for r in json.loads(board.out)] == ["m1"]
    assert "m1" in cli("eval", "leaderboard").out


def test_user_errors_are_one_line(cli: Any, workspace_home: Any) -> None:
    _seed(workspace_home)
    missing = cli(
        "eval", "run", "--suite", "nope", "--model", "m", "--base-url", "http://127.0.0.1:9/v1"
    )
    assert missing.code == 1 and "no suite 'nope'" in missing.err
    empty = cli("eval", "suite", "create", "x", "--filter", "source=none")
    assert empty.code == 1 and "no accepted mcq or qa records" in empty.err
    cli("eval", "suite", "create", "s", "--filter", "source=evaltest")
    bad = cli("eval", "rescore", "NORUN", "--scorer", "jaccard")
    assert bad.code == 1 and "no run" in bad.err
    unknown = cli("eval", "rescore", "NORUN", "--scorer", "bogus")
    assert unknown.code == 1 and "unknown scorer" in unknown.err
    nokey = cli(
        "eval", "run", "--suite", "s", "--model", "m", "--api-key-env", "QIANMO_NO_SUCH_VAR_X"
    )
    assert nokey.code == 1 and "QIANMO_NO_SUCH_VAR_X is not set" in nokey.err


def test_models_from_qianmo_toml(cli: Any, workspace_home: Any) -> None:
    _seed(workspace_home)
    with OpenAIServer(lambda body: "ANSWER: B") as server:
        (workspace_home / "qianmo.toml").write_text(
            f'[models.local]\nbase_url = "{server.url}"\nmodel = "served-id"\nseed = 5\n',
            encoding="utf-8",
        )
        cli("eval", "suite", "create", "s", "--filter", "source=evaltest")
        ran = cli("eval", "run", "--suite", "s", "--model", "local", "--json")
        assert ran.code == 0, ran.err
        assert server.requests[0]["model"] == "served-id" and server.requests[0]["seed"] == 5
    assert json.loads(ran.out)["model"] == "local"


def test_demo_step_prints_the_command_without_a_model(
    cli: Any, workspace_home: Any, monkeypatch: Any
) -> None:
    from rich.console import Console

    from qianmo.cli._demo_context import DemoContext
    from qianmo.cli.eval import demo_step

    monkeypatch.delenv("QIANMO_DEMO_MODEL_URL", raising=False)
    console = Console(record=True, width=200)
    db = init_workspace(Settings(home=workspace_home))
    demo_step(
        DemoContext(db=db, settings=Settings(home=workspace_home), console=console, serve=False)
    )
    assert "QIANMO_DEMO_MODEL_URL=http://127.0.0.1:11434/v1" in console.export_text()
    add(db, [mcq("B", n=i) for i in range(3)])
    with OpenAIServer(lambda body: "ANSWER: B") as server:
        monkeypatch.setenv("QIANMO_DEMO_MODEL_URL", server.url)
        state: dict[str, Any] = {}
        ctx = DemoContext(
            db=db, settings=Settings(home=workspace_home), console=console, serve=False, state=state
        )
        demo_step(ctx)
        assert len(server.requests) == 3 and "eval_run" in state
    assert "accuracy 100.0%" in console.export_text()
    db.dispose()
