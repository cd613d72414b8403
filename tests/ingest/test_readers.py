"""Every generic format streams rows that name where they came from."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qianmo.errors import QianmoError
from qianmo.ingest import ReadOptions, detect_format, expand_inputs, read_rows
from tests.helpers.ingest import qa_row, write_json, write_jsonl


def test_jsonl_rows_name_their_line_and_keep_unparseable_text(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [qa_row(1), "", "{broken", "[1, 2]"])
    rows = list(read_rows(path, "jsonl"))
    assert [r.where for r in rows] == [f"{path}:1", f"{path}:3", f"{path}:4"]
    assert rows[0].data == qa_row(1)
    assert rows[1].data is None and rows[1].raw == "{broken"
    assert rows[1].problem is not None and rows[1].problem.startswith("invalid JSON")
    assert rows[2].problem == "not a JSON object"


def test_json_array_and_object_holding_one_name_the_element(tmp_path: Path) -> None:
    arr = write_json(tmp_path / "arr.json", [qa_row(1), 7, qa_row(2)])
    rows = list(read_rows(arr, "json"))
    assert [r.where for r in rows] == [f"{arr}[0]", f"{arr}[1]", f"{arr}[2]"]
    assert rows[1].problem == "not an object"
    obj = write_json(tmp_path / "obj.json", {"meta": {"v": 1}, "questions": [qa_row(3)]})
    (row,) = read_rows(obj, "json")
    assert row.where == f"{obj}:questions[0]" and row.data == qa_row(3)
    single = write_json(tmp_path / "one.json", qa_row(4))
    assert [r.data for r in read_rows(single, "json")] == [qa_row(4)]


def test_truncated_json_array_keeps_the_elements_before_the_break(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text('[{"a": 1}, {"a": 2}, {"a": ', encoding="utf-8")
    rows = list(read_rows(path, "json"))
    assert [r.data for r in rows[:2]] == [{"a": 1}, {"a": 2}]
    assert rows[2].where == f"{path}[2]" and rows[2].problem is not None


def test_csv_rows_start_on_their_own_line_even_after_multiline_cells(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        'prompt,response\n"two\nlines",ok\nsecond,\n\nthird,fine,extra\n', encoding="utf-8"
    )
    rows = list(read_rows(path, "csv"))
    assert [r.where for r in rows] == [f"{path}:2", f"{path}:4", f"{path}:6"]
    assert rows[0].data == {"prompt": "two\nlines", "response": "ok"}
    assert rows[1].data == {"prompt": "second"}  # an empty cell is a missing value
    assert rows[2].problem == "has 3 fields, the header has 2"


def test_tsv(tmp_path: Path) -> None:
    path = tmp_path / "a.tsv"
    path.write_text("q\ta\nwhat?\tthat\n", encoding="utf-8")
    assert [r.data for r in read_rows(path, detect_format(path))] == [{"q": "what?", "a": "that"}]


def test_parquet_rows_are_numbered(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"question": ["q1", "q2"], "n": [1, None]}), path)
    rows = list(read_rows(path, detect_format(path)))
    assert [r.where for r in rows] == [f"{path}:row 1", f"{path}:row 2"]
    assert rows[1].data == {"question": "q2"}


def test_hugging_face_dataset_folder(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    folder = tmp_path / "hf"
    ds = datasets.Dataset.from_list([{"question": "q1", "answer": "a1"}, {"question": "q2"}])
    datasets.DatasetDict({"test": ds}).save_to_disk(str(folder))
    assert detect_format(folder) == "hf"
    rows = list(read_rows(folder, "hf"))
    assert [r.where for r in rows] == [f"{folder}:test:row 1", f"{folder}:test:row 2"]
    assert rows[1].data == {"question": "q2"}


def test_text_and_markdown_documents(tmp_path: Path) -> None:
    txt = tmp_path / "note.txt"
    txt.write_text("  plain words  \n", encoding="utf-8")
    assert [r.data for r in read_rows(txt, "text")] == [
        {"kind": "document", "content": {"title": "note", "text": "plain words"}}
    ]
    md = tmp_path / "guide.md"
    md.write_text(
        "# Guide\nintro\n## Part 1\none\n```\n# not a heading\n```\n### deeper\nmore\n## Empty\n",
        encoding="utf-8",
    )
    (whole,) = read_rows(md, "markdown")
    assert whole.data is not None and whole.data["content"]["title"] == "Guide"
    parts = list(read_rows(md, "markdown", ReadOptions(split="headings")))
    assert [(r.where, r.data["content"]["title"]) for r in parts if r.data] == [
        (f"{md}:1", "Guide"),
        (f"{md}:3", "Part 1"),
    ]
    assert "# not a heading" in parts[1].data["content"]["text"]  # type: ignore[index]
    assert "### deeper" in parts[1].data["content"]["text"]  # type: ignore[index]


def test_html_is_reduced_to_text_without_scripts_or_entities(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text(
        "<!DOCTYPE html><html><head>"
        "<title>Advisory</title><script>alert('head')</script></head><body>"
        "<h1>Overview</h1><p>Use &lt;script&gt; tags &amp; escape.</p>"
        "<script>document.write('evil')</script><style>p{}</style>"
        "<h2>Fix <em>now</em></h2><p>Patch today</p><iframe src='x'>frame</iframe>"
        "</body></html>",
        encoding="utf-8",
    )
    assert detect_format(page) == "html"
    (doc,) = read_rows(page, "html")
    text = doc.data["content"]["text"]  # type: ignore[index]
    assert doc.data["content"]["title"] == "Advisory"  # type: ignore[index]
    assert "Use <script> tags & escape." in text
    assert "alert" not in text and "evil" not in text and "p{}" not in text
    assert "frame" not in text
    sections = list(read_rows(page, "html", ReadOptions(split="headings")))
    titles = [s.data["content"]["title"] for s in sections]  # type: ignore[index]
    assert titles == ["Overview", "Fix now"]
    assert sections[1].data["content"]["text"].startswith("Patch")  # type: ignore[index]


def test_html_entities_are_never_expanded(tmp_path: Path) -> None:
    page = tmp_path / "xxe.html"
    page.write_text(
        "<!DOCTYPE html [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>"
        "<html><body><p>leak: &xxe;</p></body></html>",
        encoding="utf-8",
    )
    (doc,) = read_rows(page, "html")
    text = doc.data["content"]["text"]  # type: ignore[index]
    assert "leak: &xxe;" in text and "root:" not in text


def test_auto_detection_by_extension_and_content(tmp_path: Path) -> None:
    jsonl_named_json = write_jsonl(tmp_path / "x.json", [qa_row(1), qa_row(2)])
    assert detect_format(jsonl_named_json) == "jsonl"
    no_ext = tmp_path / "data"
    no_ext.write_text('[{"a": 1}]', encoding="utf-8")
    assert detect_format(no_ext) == "json"
    parquet = tmp_path / "blob"
    pq.write_table(pa.table({"a": [1]}), parquet)
    assert detect_format(parquet) == "parquet"
    unknown = tmp_path / "image.png"
    unknown.write_bytes(b"\x89PNG")
    with pytest.raises(QianmoError, match="give --format"):
        detect_format(unknown)


def test_folders_are_walked_skipping_hidden_and_unknown_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    a = write_jsonl(tmp_path / "sub" / "a.jsonl", [qa_row(1)])
    b = tmp_path / "b.md"
    b.write_text("# b\ntext", encoding="utf-8")
    (tmp_path / ".hidden.jsonl").write_text("{}", encoding="utf-8")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    inputs, skipped = expand_inputs([tmp_path])
    assert inputs == [b, a]
    assert skipped == [tmp_path / "logo.png"]
    with pytest.raises(QianmoError, match="no such file"):
        expand_inputs([tmp_path / "missing"])
