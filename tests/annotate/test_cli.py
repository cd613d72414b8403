"""`qianmo annotate …`: create, gold, status, agreement, export; errors are one line."""

from __future__ import annotations

import json
from pathlib import Path

from qianmo.annotate import claim, submit
from qianmo.settings import Settings
from qianmo.store import add_records, init_workspace
from tests.helpers.annotate import add_people
from tests.helpers.records import make_record


def test_campaign_lifecycle_from_the_command_line(
    cli, workspace_home: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").code == 0
    db = init_workspace(Settings(home=workspace_home))
    recs = [make_record("qa", source={"name": "cli"}) for _ in range(4)]
    with db.write() as s:
        ids = add_records(s, recs, actor="t").added
    add_people(db, "annotator", "ann", "bob")
    qfile = tmp_path / "q.yaml"
    qfile.write_text("- {name: quality, type: rating, range: 1-5}\n")
    r = cli(
        "annotate",
        "campaign",
        "create",
        "c",
        "--filter",
        "source=cli",
        "--question",
        "correct:choice[yes,no]",
        "--questions",
        str(qfile),
        "--overlap",
        "2",
        "--gold-rate",
        "0",
        "--json",
    )
    assert r.code == 0, r.err
    created = json.loads(r.out)
    assert sum(created["items"].values()) == 4 and created["overlap"] == 2
    assert (
        cli(
            "annotate",
            "gold",
            "add",
            "c",
            ids[3],
            "--answer",
            "correct=yes",
            "--answer",
            "quality=5",
        ).code
        == 0
    )
    for who in ("ann", "bob"):
        while (task := claim(db, "c", who)) is not None:
            submit(db, task.assignment_id, who, {"correct": "yes", "quality": "4"})
    status = json.loads(cli("annotate", "status", "c", "--json").out)
    assert status["done"] and status["items"] == {"settled": 3, "gold": 1}
    assert {a["annotator"]: a["labelled"] for a in status["annotators"]} == {"ann": 3, "bob": 3}
    human = cli("annotate", "status", "c")
    assert "per annotator" in human.out and "ann" in human.out
    agree = json.loads(cli("annotate", "agreement", "c", "--json").out)
    assert {a["name"]: a["unanimous"] for a in agree} == {"correct": 1.0, "quality": 1.0}
    out = tmp_path / "labels.jsonl"
    assert cli("annotate", "export", "c", "--out", str(out)).code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 4 and sum(len(r["labels"]) for r in rows) == 12
    assert cli("annotate", "question", "add", "c", "correct:choice[yes,no,unsure]").code == 0
    assert json.loads(cli("annotate", "status", "c", "--json").out)["done"] is False
    db.dispose()


def test_bad_input_is_one_line_with_its_place(cli, workspace_home: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").code == 0
    r = cli("annotate", "campaign", "create", "c", "--question", "correct:choice[yes]")
    assert r.code == 1 and "question correct" in r.err and "Traceback" not in r.err
    r = cli("annotate", "campaign", "create", "c", "--question", "ok:text", "--filter", "kind=qa")
    assert r.code == 1 and "select no records" in r.err
    r = cli("annotate", "campaign", "create", "c", "--question", "ok:text", "--overlap", "0")
    assert r.code == 1 and "overlap" in r.err
    assert cli("annotate", "status", "nope").code == 1
