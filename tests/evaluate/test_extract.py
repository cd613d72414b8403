"""Answer extraction on a table of shapes real chat models produce, in English and Chinese."""

from __future__ import annotations

import pytest

from qianmo.evaluate import extract_choice, extract_cvss, extract_ids, extract_text

CHOICES = {
    "A": "Audit",
    "B": "Execution Prevention",
    "C": "Operating System Configuration",
    "D": "User Account Control",
}

SINGLE = [
    ("ANSWER: B", "B"),
    ("Answer: B", "B"),
    ("answer: b", "B"),
    ("(B)", "B"),
    ("**B**", "B"),
    ("B", "B"),
    ("b", "B"),
    ("B.", "B"),
    ("B. Execution Prevention", "B"),
    ("B) Execution Prevention", "B"),
    ("B: Execution Prevention", "B"),
    ("The correct answer is **B) Execution Prevention**.", "B"),
    ("The answer is (B).", "B"),
    ("Final answer: B", "B"),
    ("Execution Prevention", "B"),
    ("execution prevention.", "B"),
    ("The best mitigation here is Execution Prevention, since it blocks unknown apps.", "B"),
    ("Let me think. Audit logs only record events, and UAC prompts for elevation.\n\nB", "B"),
    ("Option A is about logging.\nOption D prompts users.\nThe answer is B.", "B"),
    ("A is wrong because it only logs.\nANSWER: B", "B"),
    ("答案：B", "B"),
    ("答案:B", "B"),
    ("答案是 B", "B"),
    ("正确答案是B。", "B"),
    ("正确答案为（B）", "B"),
    ("我选B", "B"),
    ("选项B正确。", "B"),
    ("分析：审计只记录事件。\n\n答案：Ｂ", "B"),
    ("**答案：B. Execution Prevention**", "B"),
    ("The answer is C, not B as one might think... Final answer: D", "D"),
    ("Answer: a", "A"),
]


@pytest.mark.parametrize(("reply", "label"), SINGLE)
def test_single_answer_shapes(reply: str, label: str) -> None:
    got = extract_choice(reply, CHOICES)
    assert got.valid and got.value == [label], got


INVALID = [
    "",
    "   ",
    "I cannot answer this question.",
    "It depends on the environment.",
    "The answer is a matter of policy.",
    "A or B, hard to say: A, B",  # two letters for a single-answer item
    "我不确定。",
]


@pytest.mark.parametrize("reply", INVALID)
def test_nothing_extractable_is_invalid(reply: str) -> None:
    assert not extract_choice(reply, CHOICES).valid


MULTI = [
    ("ANSWER: A, C", ["A", "C"]),
    ("Answer: A and C", ["A", "C"]),
    ("答案：A、C", ["A", "C"]),
    ("正确答案是AC。", ["A", "C"]),
    ("A, B, D", ["A", "B", "D"]),
    ("The correct options are (B) and (D).\nANSWER: B, D", ["B", "D"]),
    ("ANSWER: C", ["C"]),
]


@pytest.mark.parametrize(("reply", "labels"), MULTI)
def test_multi_answer_shapes(reply: str, labels: list[str]) -> None:
    got = extract_choice(reply, CHOICES, multi=True)
    assert got.value == labels


def test_ids_are_found_and_normalised() -> None:
    got = extract_ids(
        "This is CWE 79 (XSS), related to cwe-80; ATT&CK T1059.001 and T1190. CAPEC-63"
    )
    assert got.value == ["CWE-79", "CWE-80", "T1059.001", "T1190", "CAPEC-63"]
    assert not extract_ids("no ids here, only 2024 numbers").valid
    assert extract_ids("答案：CWE-89").value == ["CWE-89"]


def test_cvss_vectors_are_found() -> None:
    v31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert extract_cvss(f"The vector is {v31}.").value == [v31]
    assert extract_cvss("Vector: AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N").valid
    assert extract_cvss("向量：AV:N/AC:L/Au:N/C:P/I:P/A:P").value == ["AV:N/AC:L/Au:N/C:P/I:P/A:P"]
    assert not extract_cvss("high severity").valid


def test_short_text_answers() -> None:
    assert extract_text("Reasoning...\nAnswer: port 443").value == ["port 443"]
    assert extract_text("答案：跨站脚本").value == ["跨站脚本"]
    assert extract_text("SQL injection").value == ["SQL injection"]
    assert not extract_text(" ").valid
