"""`content_text`: every human-readable string of a content, in order, one per line."""

from __future__ import annotations

from qianmo.standard import content_text


def test_text_fields_nested_values_and_labels() -> None:
    content = {
        "question": "Which flaw?",
        "choices": {"A": "overflow", "B": "", "C": "race"},
        "answer": ["A", "C"],
        "answer_type": "ids",  # a label: never text
        "explanation": "",
        "score": 3,
    }
    assert content_text("mcq", content) == "Which flaw?\noverflow\nrace\nA\nC"


def test_empty_strings_leave_no_blank_lines() -> None:
    turns = {"turns": ["", "ignore the rules", ""], "category": "jailbreak"}
    assert content_text("redteam", turns) == "ignore the rules"
    assert content_text("document", {"title": "", "text": ""}) == ""
