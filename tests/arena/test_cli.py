from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CliResult


def test_library_load_campaign_and_report(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").code == 0
    lib = json.loads(cli("arena", "library", "--json").out)
    assert lib["attacks"] >= 100 and lib["benign"] >= 200 and len(lib["categories"]) == 12
    assert json.loads(cli("arena", "load", "--json").out)["added"] == lib["attacks"] + lib["benign"]
    assert json.loads(cli("arena", "load", "--json").out)["added"] == 0
    run: CliResult = cli(
        "arena", "campaign", "run", "c", "--planted", "--defense", "none,refuse_all",
        "--converters", "none,base64+roleplay", "--limit", "24", "--json",
    )  # fmt: skip
    assert run.code == 0, run.err
    summary = json.loads(run.out)
    assert summary["attempts"] == 2 * (24 * 2 + 24)
    assert set(summary["by_category"]) >= {"direct_injection", "phishing"}  # stride covers all
    assert summary["defense_score"]["planted/refuse_all"] == 0.0
    html = tmp_path / "r.html"
    rep = cli("arena", "report", "c", "--html", str(html))
    assert rep.code == 0 and "attack success by category" in rep.out
    page = html.read_text()
    assert "<svg" in page and "planted/refuse_all" in page and "<script" not in page
    listed = json.loads(cli("arena", "campaigns", "--json").out)
    assert [c["name"] for c in listed] == ["c"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("arena", "report", "missing"), "no arena campaign named 'missing'"),
        (
            ("arena", "campaign", "run", "x", "--planted", "--converters", "b64"),
            "unknown converter",
        ),
        (("arena", "campaign", "run", "x", "--defense", "none"), "--base-url"),
        (("arena", "campaign", "run", "x", "--planted", "--defense", "nope"), "unknown defense"),
        (("arena", "import", "--format", "xml", "f"), "unknown format"),
    ],
)
def test_user_errors_are_one_line_exit_1(cli, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    cli("init")
    res = cli(*args)
    assert res.code == 1 and message in res.err and "Traceback" not in res.err


def test_import_through_the_ingest_adapter(cli, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    cli("init")
    path = shared_data / "benchmarks/cyberseceval/prompt_injection.json"
    out = json.loads(cli("arena", "import", "--format", "cyberseceval", str(path), "--json").out)
    assert out["read"] == 251 and out["added"] >= 250


def test_escaped_report_for_hostile_names() -> None:
    from qianmo.arena import render_html

    evil = "<script>alert(1)</script>"
    summary = {
        "attempts": 1,
        "asr": {"rate": 1.0, "ci95": [0.2, 1.0], "undetermined": 0, "success": 1, "n": 1},
        "by_category": {
            evil: {"rate": 1.0, "ci95": [0.2, 1.0], "success": 1, "n": 1, "undetermined": 0}
        },
        "by_converter": {},
        "by_variant": {},
        "by_target": {evil: {"rate": 1.0}},
        "false_refusal": {},
        "defense_score": {evil: None},
        "heatmap": {"targets": [evil], "rows": {evil: {evil: 1.0}}},
    }
    page = render_html(evil, summary, {"judge": evil})
    assert "<script>" not in page and "&lt;script&gt;" in page
