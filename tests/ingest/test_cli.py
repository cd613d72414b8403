"""`qianmo ingest` and `qianmo imports` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CliResult
from tests.helpers.ingest import MAPPINGS, qa_row, write_jsonl


def _init(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").code == 0


def test_ingest_reports_bad_rows_and_imports_show_keeps_them(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _init(cli)
    payload = {"kind": "qa", "content": {"question": "<script>alert(1)</script>[bold]x[/bold]"}}
    path = write_jsonl(tmp_path / "in.jsonl", [qa_row(1), payload, qa_row(3)])
    r: CliResult = cli("ingest", str(path), "--org", "acme", "--tlp", "green")
    assert r.code == 0, r.err
    assert "3 read, 2 added, 0 already held, 1 rejected" in r.out
    assert f"{path}:2: content.answer: is required" in r.out
    listed = json.loads(cli("imports", "list", "--json").out)
    assert listed[0]["counts"] == {
        "read": 3,
        "added": 2,
        "duplicates": 0,
        "updated": 0,
        "rejected": 1,
    }
    shown = cli("imports", "show", listed[0]["id"])
    assert f"{path}:2: content.answer: is required" in shown.out
    assert "[bold]x[/bold]" in shown.out  # data is escaped, not rendered as markup
    data = json.loads(cli("imports", "show", listed[0]["id"], "--json").out)
    (bad,) = data["rejected_rows"]
    assert json.loads(bad["raw"]) == payload
    again = cli("ingest", str(path), "--org", "acme", "--tlp", "green", "--json")
    assert again.code == 0 and json.loads(again.out)[0]["duplicates"] == 2
    rows = json.loads(cli("records", "list", "--org", "acme", "--json").out)
    assert len(rows) == 2 and {r["source"]["tlp"] for r in rows} == {"GREEN"}


def test_exit_1_only_when_nothing_could_be_read(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _init(cli)
    path = write_jsonl(tmp_path / "bad.jsonl", ["nope", "{"])
    r = cli("ingest", str(path))
    assert r.code == 1 and "nothing could be read as a record (2 rejected rows kept)" in r.err
    assert cli("ingest", str(tmp_path / "missing.jsonl")).code == 1


def test_strict_aborts_with_every_bad_row(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _init(cli)
    path = write_jsonl(tmp_path / "in.jsonl", [qa_row(1), {"kind": "qa"}])
    r = cli("ingest", str(path), "--strict")
    assert r.code == 1
    assert "1 bad row(s); nothing was written (--strict)" in r.err
    assert f"{path}:2: content: must be an object" in r.err
    assert json.loads(cli("records", "list", "--json").out) == []


def test_folder_with_mapping_and_documents(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _init(cli)
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "prompts.csv").write_text(
        "prompt,response,category\nWhat is XSS?,Script injection.,web\n", encoding="utf-8"
    )
    r = cli(
        "ingest", str(folder / "prompts.csv"), "--mapping", str(MAPPINGS / "instruction-csv.yaml")
    )
    assert r.code == 0 and "1 added" in r.out
    (folder / "notes.md").write_text("# A\none\n## B\ntwo\n", encoding="utf-8")
    (folder / "page.html").write_text("<h1>T</h1><p>body</p><script>x()</script>", encoding="utf-8")
    r = cli("ingest", str(folder), "--split", "headings", "--source", "drop")
    assert r.code == 0, r.err
    docs = json.loads(cli("records", "list", "--source", "drop", "--json").out)
    assert sorted(d["content"]["title"] for d in docs if d["kind"] == "document") == ["A", "B", "T"]
