"""The question grammar, question files and answer checks for every question type."""

from __future__ import annotations

from pathlib import Path

import pytest

from qianmo.annotate import agree, check_answer, load_questions, parse_spec
from qianmo.errors import QianmoError
from tests.helpers.records import make_record


def test_every_type_parses() -> None:
    assert parse_spec("correct:choice[yes,no,unsure]").options == ("yes", "no", "unsure")
    assert parse_spec("domain:taxonomy").type == "taxonomy"
    q = parse_spec("quality:rating[1-5]")
    assert (q.low, q.high, q.choices()) == (1, 5, ["1", "2", "3", "4", "5"])
    assert parse_spec("fix:rewrite[answer]").field == "answer"
    assert parse_spec("better:preference").choices() == ["a", "b", "tie"]
    assert parse_spec("pii:spans").options == ("pii", "error", "unsafe")
    assert parse_spec("note:text").type == "text"
    assert parse_spec("tags:multi[a,b,c]").type == "multi"
    assert parse_spec("right:mcq").type == "mcq"


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("correct", "NAME:TYPE"),
        ("x:colour[red,blue]", "unknown question type"),
        ("x:choice[yes]", "at least two"),
        ("x:choice[a,a]", "repeat"),
        ("x:rating[5-1]", "LOW-HIGH"),
        ("x:rewrite", "rewrite[FIELD]"),
        ("x:taxonomy[a]", "no [arguments]"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(QianmoError, match=says.replace("[", r"\[")):
        parse_spec(spec)


def test_questions_file_with_rubric(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(
        "- {name: quality, type: rating, range: 1-3, rubric: {'1': poor, '3': good}}\n"
        "- {name: correct, type: choice, options: [yes, no]}\n"
    )
    q1, q2 = load_questions(path)
    assert q1.rubric == {"1": "poor", "3": "good"} and q2.options == ("yes", "no")
    path.write_text("- {name: bad, type: choice, options: [only]}\n")
    with pytest.raises(QianmoError) as e:
        load_questions(path)
    assert str(path) in str(e.value) and "questions[1]" in str(e.value)


def test_answers_are_checked_and_normalised() -> None:
    qa = make_record("qa")
    mcq = make_record("mcq")
    assert check_answer(parse_spec("q:rating[1-5]"), "4", qa) == 4
    assert check_answer(parse_spec("q:multi[a,b,c]"), "c,a", qa) == ["a", "c"]
    assert check_answer(parse_spec("q:taxonomy"), "vuln", qa) == "vuln"
    assert check_answer(parse_spec("q:mcq"), "A", mcq) == ["A"]
    keep = check_answer(parse_spec("f:rewrite[answer]"), "", qa)
    assert keep == {"keep": True}
    edit = check_answer(parse_spec("f:rewrite[answer]"), "A better answer.", qa)
    assert edit["text"] == "A better answer." and "+A better answer." in edit["diff"]
    spans = check_answer(parse_spec("p:spans"), '[{"start": 3, "end": 9, "label": "pii"}]', qa)
    assert spans == [{"start": 3, "end": 9, "label": "pii"}]
    for spec, value in [
        ("q:rating[1-5]", 9),
        ("q:choice[yes,no]", "maybe"),
        ("q:taxonomy", "nowhere"),
        ("q:mcq", "Z"),
        ("p:spans", [{"start": 5, "end": 2, "label": "pii"}]),
        ("q:choice[yes,no]", None),
    ]:
        with pytest.raises(QianmoError, match=r"answers\.[qp]"):
            check_answer(parse_spec(spec), value, mcq if spec == "q:mcq" else qa)


def test_agreement_rules() -> None:
    q = parse_spec("c:choice[yes,no]")
    assert agree(q, ["yes", "yes", "yes"]) == (True, "yes")
    assert agree(q, ["yes", "no", "yes"]) == (False, "yes")
    assert agree(q, ["yes", "no", "yes"], rule="majority") == (True, "yes")
    note = parse_spec("n:text")
    assert agree(note, ["a", "b"]) == (True, ["a", "b"])
