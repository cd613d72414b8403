"""Templates in both languages, k-shot from outside the suite, option rotation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qianmo.errors import QianmoError
from qianmo.evaluate import Item, load_template, pick_shots, rotate

CHOICES = {"A": "Audit", "B": "Execution Prevention", "C": "Encryption", "D": "Training"}


def item(
    lang: str = "en", answer: object = "B", rid: str = "r0", question: str = "Which fits?"
) -> Item:
    content = {"question": question, "choices": CHOICES, "answer": answer}
    return Item(position=0, record_id=rid, kind="mcq", lang=lang, content=content)


def test_english_and_chinese_templates() -> None:
    t = load_template()
    en = t.messages(item())
    assert [m["role"] for m in en] == ["user"]
    assert "\nWhich fits?\n" in en[0]["content"] and "B. Execution Prevention" in en[0]["content"]
    assert "ANSWER: X" in en[0]["content"]
    zh = t.messages(item("zh"), system="你是安全专家。")
    assert zh[0] == {"role": "system", "content": "你是安全专家。"}
    assert "答案：X" in zh[1]["content"]
    multi = t.messages(item(answer=["A", "C"]))[0]["content"]
    assert "One or more options" in multi
    # braces in a question are text, not placeholders
    assert "{choices}" in t.messages(item(question="what is {choices}?"))[0]["content"]


def test_k_shot_examples_are_deterministic_and_match_the_item() -> None:
    pool = [item(rid=f"s{i}", question=f"Shot {i}") for i in range(10)]
    pool += [item("zh", rid="zh1")]
    shots = pick_shots(pool, item(), 3)
    assert len(shots) == 3 and all(s.lang == "en" for s in shots)
    assert [s.record_id for s in pick_shots(list(reversed(pool)), item(), 3)] == [
        s.record_id for s in shots
    ]
    messages = load_template().messages(item(), shots=shots)
    assert [m["role"] for m in messages] == ["user", "assistant"] * 3 + ["user"]
    assert messages[1]["content"] == "ANSWER: B"
    assert pick_shots(pool, item(), 3, seed=1) != shots


def test_rotation_moves_texts_and_the_answer() -> None:
    r = rotate(item(), 1)
    assert r.choices == {
        "A": "Execution Prevention",
        "B": "Encryption",
        "C": "Training",
        "D": "Audit",
    }
    assert r.truth == ["A"]
    assert rotate(item(), 3).truth == ["C"]
    assert rotate(item(answer=["A", "C"]), 2).truth == ["A", "C"]
    assert rotate(item(), 0).choices == CHOICES


def test_template_files_are_checked(tmp_path: Path) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text("name: t\nen:\n  choice: x\n", encoding="utf-8")
    with pytest.raises(QianmoError, match="missing multi"):
        load_template(str(bad))
    with pytest.raises(QianmoError, match="no bundled template"):
        load_template("nope")


BUNDLED = (Path(__file__).parents[2] / "src/qianmo/evaluate/data/templates/default.yaml").read_text(
    encoding="utf-8"
)


def _broken(tmp_path: Path, old: str, new: str, count: int = 1) -> tuple[str, int]:
    """The bundled template with one edit; the file and the 1-based line of the edit."""
    assert old in BUNDLED
    text = BUNDLED.replace(old, new, count)
    path = tmp_path / f"broken{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(text, encoding="utf-8")
    line = text[: text.index(new)].count("\n") + 1
    return str(path), line


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("    {question}\n\n    {choices}", "    {questoin}\n\n    {choices}", "en.choice",
         "unknown placeholder {questoin}"),
        ('  shot_answer: "ANSWER: {answer}"', "  shot_answer: [1, 2]", "en.shot_answer",
         "must be text, not list"),
        ("  reminder: 'Your reply", "  remindr: 'Your reply", "en.remindr", "unknown part"),
        ("version: 1", "version: one", "version", "whole number"),
    ],
)  # fmt: skip
def test_template_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, field: str, message: str
) -> None:
    path, line = _broken(tmp_path, old, new)
    with pytest.raises(QianmoError, match=re.escape(message)) as e:
        load_template(path)
    loc = e.value.location
    assert (loc.file, loc.line, loc.field) == (path, line, field)
    assert str(e.value).startswith(f"{path}:{line}: {field}: ")


def test_template_yaml_syntax_and_missing_parts_name_their_line(tmp_path: Path) -> None:
    path, line = _broken(
        tmp_path, '  choice_line: "{label}. {text}"', '  choice_line: "{label}. {text}'
    )
    with pytest.raises(QianmoError, match="invalid YAML") as e:
        load_template(path)
    assert e.value.location.file == path and e.value.location.line is not None
    assert e.value.location.line >= line
    zh = BUNDLED.index("\nzh:\n")
    cut = BUNDLED[:zh] + BUNDLED[zh:].replace('  shot_answer: "答案：{answer}"\n', "")
    missing = tmp_path / "missing.yaml"
    missing.write_text(cut, encoding="utf-8")
    with pytest.raises(QianmoError, match="missing shot_answer") as e:
        load_template(str(missing))
    zh_line = BUNDLED[: zh + 1].count("\n") + 1
    assert (e.value.location.line, e.value.location.field) == (zh_line, "zh")
