"""Exports: byte-identical rebuilds, `datasets` opens them, verify catches tampering, cards."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yaml

from qianmo.circulate import create_release, export_release, pseudonym, verify_export
from qianmo.standard import Record
from qianmo.store import Database, add_records, upgrade
from tests.circulate.test_release import corpus
from tests.helpers.circulate import accepted, add_orgs, request

SECRET = b"workspace-secret"


def _people_record() -> Record:
    return accepted(
        "qa",
        source={"org": "<b>evil</b>|org", "license": "MIT", "name": "feed [x](javascript:1)"},
        restrictions=["user:alice", "org:org-a"],
        lineage={
            "steps": [
                {"type": "person", "name": "alice", "detail": {"action": "review"}},
                {"type": "step", "name": "dedup", "detail": {"reviewer": ["bob"]}},
            ]
        },
    )


def _build(db: Database, records: list[Record]) -> None:
    add_orgs(db)
    with db.write() as s:
        add_records(s, records, actor="test")
    create_release(db, request("org:org-a"), "1.0.0", actor="t")


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def built(db: Database) -> tuple[Database, list[Record]]:
    records = [*corpus(60), _people_record()]
    _build(db, records)
    return db, records


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "hf"])
def test_rebuild_from_the_same_state_is_byte_identical(
    built: tuple[Database, list[Record]], tmp_path: Path, fmt: str
) -> None:
    db, records = built
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other)
    _build(other, records)
    export_release(db, "rel@1.0.0", fmt, tmp_path / "a", secret=SECRET)
    export_release(other, "rel", fmt, tmp_path / "b", secret=SECRET)
    export_release(db, "rel", fmt, tmp_path / "c", secret=SECRET)
    a = _tree(tmp_path / "a")
    assert a == _tree(tmp_path / "b") == _tree(tmp_path / "c")
    assert {"README.md", "NOTICE", "manifest.json"} <= a.keys()
    other.dispose()


def test_datasets_opens_hf_and_parquet_exports(
    built: tuple[Database, list[Record]], tmp_path: Path
) -> None:
    from datasets import load_dataset, load_from_disk

    db, records = built
    hf = export_release(db, "rel", "hf", tmp_path / "hf", secret=SECRET)
    pq = export_release(db, "rel", "parquet", tmp_path / "pq", secret=SECRET)
    dd = load_from_disk(str(tmp_path / "hf"))
    assert {k: len(v) for k, v in dd.items()} == hf["splits"]
    files = {s: str(tmp_path / "pq" / "data" / f"{s}-00000-of-00001.parquet") for s in pq["splits"]}
    loaded = load_dataset("parquet", data_files=files, cache_dir=str(tmp_path / "cache"))
    ids = sorted(i for split in loaded.values() for i in split["id"])
    assert ids == sorted(r.id for r in records)
    row = next(r for split in dd.values() for r in split if r["kind"] == "qa")
    assert orjson.loads(row["content"])["question"] and row["text"]
    hub = load_dataset(str(tmp_path / "pq"), cache_dir=str(tmp_path / "cache2"))
    assert {k: len(v) for k, v in hub.items()} == pq["splits"]


def test_people_are_pseudonymised(built: tuple[Database, list[Record]], tmp_path: Path) -> None:
    db, _ = built
    export_release(db, "rel", "jsonl", tmp_path / "j", secret=SECRET)
    blob = b"".join(_tree(tmp_path / "j").values())
    assert b'"alice"' not in blob and b'"bob"' not in blob and b"user:alice" not in blob
    assert pseudonym("alice", SECRET).encode() in blob and pseudonym("bob", SECRET).encode() in blob
    assert pseudonym("alice", SECRET) != pseudonym("alice", b"another workspace")


def test_tampered_export_fails_verify(built: tuple[Database, list[Record]], tmp_path: Path) -> None:
    db, _ = built
    out = tmp_path / "x"
    export_release(db, "rel", "parquet", out, secret=SECRET)
    assert verify_export(out).ok
    data = next((out / "data").iterdir())
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 1
    data.write_bytes(bytes(raw))
    (out / "extra.txt").write_text("x")
    problems = verify_export(out).problems
    assert any("checksum mismatch" in p and data.name in p for p in problems)
    assert any("extra.txt: not in the manifest" in p for p in problems)
    (out / "NOTICE").unlink()
    assert any(p == "NOTICE: missing" for p in verify_export(out).problems)


def test_dataset_card(built: tuple[Database, list[Record]], tmp_path: Path) -> None:
    db, _ = built
    export_release(db, "rel", "parquet", tmp_path / "p", secret=SECRET)
    card = (tmp_path / "p" / "README.md").read_text()
    _, front, body = card.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["license"] == "other" and meta["license_name"] == "CC-BY-4.0 AND MIT"
    assert meta["language"] == ["en", "zh"] and meta["size_categories"] == ["n<1K"]
    assert set(meta["task_categories"]) == {
        "text-generation",
        "question-answering",
        "multiple-choice",
    }
    paths = {f["split"]: f["path"] for f in meta["configs"][0]["data_files"]}
    assert paths["train"] == "data/train-*.parquet"
    for section in (
        "Purpose",
        "Sources and contributing organisations",
        "Quality",
        "Known limitations",
        "Circulation terms",
        "NOTICE",
    ):
        assert f"## {section}" in body
    assert "<b>" not in card and "&lt;b&gt;evil&lt;/b&gt;\\|org" in card
    assert "](javascript" not in card
    notice = (tmp_path / "p" / "NOTICE").read_text()
    assert "CC-BY-4.0" in notice and "MIT" in notice
