"""`qianmo demo --no-serve` on a fresh workspace: the sample corpus loads and is summarised."""

from __future__ import annotations

import json
from collections import Counter

from qianmo.cli.demo import corpus_path
from qianmo.standard import load_taxonomy


def test_corpus_covers_every_kind_domain_and_both_languages() -> None:
    rows = [json.loads(line) for line in corpus_path().read_text(encoding="utf-8").splitlines()]
    assert 190 <= len(rows) <= 230
    assert {r["kind"] for r in rows} == {
        "document", "qa", "mcq", "instruction", "conversation", "preference", "code", "redteam"
    }  # fmt: skip
    tops = {load_taxonomy().top_of(r["domain"]) for r in rows}
    assert tops == {d.code for d in load_taxonomy().top_level}
    langs = Counter(r["lang"] for r in rows)
    assert langs["zh"] > 50 and langs["en"] > 50
    assert {r["source"]["tlp"] for r in rows} >= {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"}


def test_demo_on_a_fresh_workspace(cli, workspace_home) -> None:  # type: ignore[no-untyped-def]
    result = cli("demo", "--no-serve")
    assert result.code == 0, result.err
    assert "demo corpus" in result.out
    stats = json.loads(cli("records", "stats", "--by", "kind", "--json").out)
    assert stats["total"] >= 190
    assert (workspace_home / "qianmo.db").exists()
    _review_the_demo_disagreement(cli)
    assert cli("audit", "verify").code == 0


def _review_the_demo_disagreement(cli) -> None:  # type: ignore[no-untyped-def]
    """The demo campaign leaves one disagreement for carol; her "no" rejects the record."""
    status = json.loads(cli("annotate", "status", "demo-mcq-check", "--json").out)
    assert status["items"]["review"] == 1
    for who in ("dave", "erin"):  # annotators: reviewing is not their role
        assert cli("annotate", "review", "list", "demo-mcq-check", "--as", who).code == 1
    (item,) = json.loads(
        cli("annotate", "review", "list", "demo-mcq-check", "--as", "carol", "--json").out
    )
    assert sorted(v["annotator"] for v in item["labels"] if v["question"] == "correct") == [
        "dave",
        "erin",
    ]
    decided = cli(
        "annotate", "review", "decide", "demo-mcq-check", item["item_id"], "correct",
        "--answer", "correct=no", "--as", "carol",
    )  # fmt: skip
    assert decided.code == 0, decided.err
    record = json.loads(cli("records", "show", item["record_id"], "--json").out)
    record = record[0] if isinstance(record, list) else record
    assert record["status"] == "rejected" and "reviewed by carol" in record["status_reason"]
