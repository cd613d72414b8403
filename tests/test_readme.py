"""The README's tour runs as written, against the workspace `qianmo demo` leaves."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def tour_commands() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    tour = text[text.index("## A short tour") :]
    block = re.search(r"```bash\n(.*?)```", tour, re.S)
    assert block is not None
    commands = []
    for line in block.group(1).splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("qianmo "):
            commands.append(shlex.split(line)[1:])
    return commands


def test_the_quick_start_names_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    quick = text[text.index("## Quick start") : text.index("## A short tour")]
    block = re.search(r"```bash\n(.*?)```", quick, re.S)
    assert block is not None
    lines = [ln.split("#")[0].strip() for ln in block.group(1).splitlines() if ln.strip()]
    assert lines == ["make demo", "make test"]


def test_tour_runs_on_the_demo_workspace(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # commands that write files write them here
    assert cli("demo", "--no-serve").code == 0
    record_id = json.loads(cli("records", "list", "--limit", "1", "--json").out)[0]["id"]
    commands = tour_commands()
    assert len(commands) >= 10
    for args in commands:
        args = [record_id if a == "ID" else a for a in args]
        result = cli(*args)
        assert result.code == 0, f"qianmo {' '.join(args)}: {result.err}"
