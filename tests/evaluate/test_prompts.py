"""Templates in both languages, k-shot from outside the suite, option rotation."""

from __future__ import annotations

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
