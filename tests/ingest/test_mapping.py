"""Mappings: the three shipped examples against fixtures in their formats, and each transform."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qianmo.errors import QianmoError
from qianmo.ingest import (
    Defaults,
    IngestOptions,
    build_record,
    content_sha256,
    get_import,
    ingest_file,
    load_mapping,
    mapping_from_dict,
    read_rows,
)
from qianmo.standard import Record
from qianmo.store import Database, RecordFilter, count_records, list_records
from tests.helpers.ingest import MAPPINGS, write_json


def _records(path: Path, fmt: str, mapping: str) -> list[Record | list[Any]]:
    m = load_mapping(MAPPINGS / mapping)
    defaults = Defaults(source=path.stem)
    return [build_record(row, m, defaults, "imp") for row in read_rows(path, fmt)]


def test_csv_prompt_response_category_to_instruction(tmp_path: Path) -> None:
    path = tmp_path / "prompts.csv"
    path.write_text(
        "prompt,response,category\n"
        "How do I rotate a leaked key?,Revoke it then issue a new one.,secrets; incident\n"
        "Explain CSRF,,web\n",
        encoding="utf-8",
    )
    good, bad = _records(path, "csv", "instruction-csv.yaml")
    assert isinstance(good, Record)
    assert good.kind.value == "instruction" and good.tags == ["secrets", "incident"]
    assert good.content == {
        "instruction": "How do I rotate a leaked key?",
        "output": "Revoke it then issue a new one.",
    }
    assert [str(p) for p in bad] == ["content.output: is required"]  # type: ignore[union-attr]


CYBERMETRIC = {
    "questions": [
        {
            "question": "What does a KDF do?",
            "answers": {"A": "Signs", "B": "Derives keys", "C": "Hashes", "D": "Encrypts"},
            "solution": "B",
        },
        {"question": "No solution", "answers": {"A": "x", "B": "y"}, "solution": "E"},
    ]
}


def test_cybermetric_json_to_mcq(tmp_path: Path) -> None:
    path = write_json(tmp_path / "CyberMetric-2.json", CYBERMETRIC)
    good, bad = _records(path, "json", "cybermetric.yaml")
    assert isinstance(good, Record)
    assert good.kind.value == "mcq" and good.eval_only and good.source.name == "cybermetric"
    assert good.content["answer"] == "B" and good.content["choices"]["B"] == "Derives keys"
    assert "is not among the choices" in str(bad[0])  # type: ignore[index]


SECEVAL = [
    {
        "id": "s-1",
        "source": "owasp_mastg",
        "question": "Which storage should be avoided?",
        "choices": ["A: SharedPreferences private", "B: World-readable files", "C: Keystore"],
        "answer": "B",
        "topics": ["AppSecurity"],
    },
    {
        "id": "s-2",
        "question": "Which are tamper-evident?",
        "choices": ["A: Signed logs", "B: Plain files", "C: Hash chains", "D: Caches"],
        "answer": "AC",
        "topics": ["SystemSecurity"],
    },
    {"id": "s-3", "question": "No answer", "choices": ["A: x", "B: y"], "answer": ""},
]


def test_seceval_json_to_mcq_with_multi_letter_answers(tmp_path: Path) -> None:
    path = write_json(tmp_path / "questions.json", SECEVAL)
    one, two, bad = _records(path, "json", "seceval.yaml")
    assert isinstance(one, Record) and isinstance(two, Record)
    assert one.content["choices"] == {
        "A": "SharedPreferences private",
        "B": "World-readable files",
        "C": "Keystore",
    }
    assert one.content["answer"] == "B" and one.source.original_id == "s-1"
    assert two.content["answer"] == ["A", "C"] and two.tags == ["SystemSecurity"]
    assert [str(p) for p in bad] == ["content.answer: no answer letter"]  # type: ignore[union-attr]


def test_shipped_mappings_on_the_real_benchmarks(db: Database, shared_data: Path) -> None:
    bench = shared_data / "benchmarks"
    cm = ingest_file(
        db,
        bench / "cybermetric" / "CyberMetric-80-v1.json",
        IngestOptions(mapping=str(MAPPINGS / "cybermetric.yaml"), license="CC-BY-4.0"),
        actor="t",
    )
    assert (cm.read, cm.added, cm.rejected) == (80, 80, 0)
    se = ingest_file(
        db,
        bench / "seceval" / "questions.json",
        IngestOptions(mapping=str(MAPPINGS / "seceval.yaml"), batch_size=500),
        actor="t",
    )
    assert se.read == 2189 and se.added + se.duplicates + se.rejected == 2189
    # SecEval has seven questions with an empty answer and two answering "AA": kept as
    # rejected rows with their reasons, not records.
    assert se.rejected == 9
    reasons = sorted({p.rsplit(": ", 1)[1] for p in se.problems})
    assert reasons == ["names a choice twice", "no answer letter"]
    with db.read() as s:
        assert count_records(s, RecordFilter.of(source="seceval")) == se.added
        multi = [
            r
            for r in list_records(s, RecordFilter.of(source="seceval"), limit=3000)
            if isinstance(r.content["answer"], list)
        ]
    assert len(multi) == (738 - 2) + 176 + 13


def test_transforms() -> None:
    m = mapping_from_dict(
        {
            "kind": "mcq",
            "fields": {
                "content.question": "q.text",
                "content.choices": {"join": ["opt1", "opt2", "opt3"]},
                "content.answer": {"from": "correct", "transform": "index_to_letter", "base": 1},
                "domain": {"from": "cat", "transform": "map", "values": {"web": "appsec"}},
                "refs.cwe": {"from": "cwes", "transform": "split", "sep": "|"},
            },
            "constants": {"source.name": "t", "lang": "en"},
        }
    )
    data, problems = m.apply(
        {
            "q": {"text": "Pick"},
            "opt1": "a",
            "opt2": "b",
            "opt3": "",
            "correct": "2",
            "cat": "web",
            "cwes": "79|CWE-89",
        }
    )
    assert problems == []
    assert data["content"] == {"question": "Pick", "choices": {"A": "a", "B": "b"}, "answer": "B"}
    assert data["domain"] == "appsec" and data["refs"]["cwe"] == ["79", "CWE-89"]
    _, problems = m.apply({"correct": "x", "cat": "mobile"})
    assert [str(p) for p in problems] == [
        "content.answer: 'x' is not an index",
        "domain: 'mobile' is not one of ['web']",
    ]
    back = mapping_from_dict({"fields": {"n": {"from": "a", "transform": "letter_to_index"}}})
    assert back.apply({"a": "c"})[0] == {"n": 2}


def test_bad_mappings_name_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("fields:\n  content.answer: {from: a, transform: nope}\n", encoding="utf-8")
    with pytest.raises(QianmoError, match="unknown transform 'nope'") as e:
        load_mapping(path)
    assert str(e.value).startswith(f"{path}: content.answer:")
    path.write_text("fields: [unclosed\n", encoding="utf-8")
    with pytest.raises(QianmoError, match="invalid YAML"):
        load_mapping(path)


def test_benchmark_files_go_to_their_source_importer_unless_mapped(
    db: Database, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "CyberMetric-2.json", CYBERMETRIC)
    by_content = ingest_file(db, path, IngestOptions(source="cm-auto"), actor="t")
    assert by_content.format == "cybermetric" and by_content.added >= 1
    with db.read() as s:
        assert get_import(s, by_content.import_id)["sha256"] == content_sha256(path)
    mapped = ingest_file(
        db, path, IngestOptions(mapping=str(MAPPINGS / "cybermetric.yaml")), actor="t"
    )
    assert mapped.format == "json" and (mapped.added, mapped.rejected) == (1, 1)
