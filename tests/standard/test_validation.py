"""Every validation error names its field and says why."""

from __future__ import annotations

from typing import Any

import pytest

from qianmo.standard import Kind, RecordInvalid, validate_record
from tests.helpers.records import record_data


def problem(data: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(RecordInvalid) as info:
        validate_record(data)
    first = info.value.problems[0]
    return first.field, first.reason


@pytest.mark.parametrize("kind", [k.value for k in Kind])
def test_every_kind_validates(kind: str) -> None:
    assert validate_record(record_data(kind)).kind.value == kind


def test_unknown_kind() -> None:
    data = record_data("document")
    data["kind"] = "essay"
    field, reason = problem(data)
    assert field == "kind" and "'essay' is not a kind" in reason


def test_missing_required_text() -> None:
    data = record_data("qa")
    del data["content"]["answer"]
    assert problem(data) == ("content.answer", "is required")


def test_empty_required_text() -> None:
    data = record_data("document")
    data["content"]["text"] = "   \n"
    assert problem(data) == ("content.text", "must not be empty")


def test_mcq_answer_not_among_choices() -> None:
    data = record_data("mcq")
    data["content"]["answer"] = "E"
    field, reason = problem(data)
    assert field == "content.answer" and "'E' is not among the choices" in reason


def test_mcq_duplicate_choice_labels() -> None:
    data = record_data("mcq")
    data["content"]["choices"] = [["A", "one"], ["A", "two"], ["B", "three"]]
    field, reason = problem(data)
    assert field == "content.choices" and "duplicate choice label(s): A" in reason


def test_mcq_lower_case_answer_is_normalised() -> None:
    data = record_data("mcq")
    data["content"]["answer"] = "b"
    assert validate_record(data).content["answer"] == "B"


def test_mcq_multi_answer() -> None:
    data = record_data("mcq")
    data["content"]["choices"] = {"A": "a", "B": "b", "C": "c"}
    data["content"]["answer"] = ["a", "C"]
    assert validate_record(data).content["answer"] == ["A", "C"]


@pytest.mark.parametrize(
    ("field", "value", "expect_field", "expect"),
    [
        ("license", "Not-A-Licence", "source.license", "unknown licence 'Not-A-Licence'"),
        ("tlp", "PURPLE", "source.tlp", "Input should be"),
    ],
)
def test_bad_source_fields(field: str, value: str, expect_field: str, expect: str) -> None:
    data = record_data("document", source={field: value})
    got_field, reason = problem(data)
    assert got_field == expect_field and expect in reason


def test_bad_classification_and_personal_info() -> None:
    assert problem(record_data("document", classification="secret"))[0] == "classification"
    assert problem(record_data("document", personal_info="maybe"))[0] == "personal_info"


def test_bad_taxonomy_code() -> None:
    field, reason = problem(record_data("document", domain="vuln.nonsense"))
    assert field == "domain" and "not a taxonomy code" in reason


def test_bad_date() -> None:
    field, reason = problem(record_data("document", published_at="yesterday"))
    assert field == "published_at" and "ISO 8601" in reason


def test_bad_ids_in_refs() -> None:
    field, reason = problem(record_data("document", refs={"cve": ["CVE-21-1"]}))
    assert field == "refs" and "not a valid CVE id" in reason


def test_refs_are_normalised() -> None:
    rec = validate_record(
        record_data("document", refs={"cwe": ["79", "cwe-79"], "cve": "cve-2021-44228"})
    )
    assert rec.refs.cwe == ["CWE-79"] and rec.refs.cve == ["CVE-2021-44228"]


def test_unknown_field_is_refused() -> None:
    assert problem(record_data("document", colour="red")) == (
        "colour",
        "is not a field of the data standard",
    )


def test_tlp_white_is_clear_and_license_ref_is_accepted() -> None:
    rec = validate_record(
        record_data("document", source={"tlp": "TLP:WHITE", "license": "LicenseRef-acme-terms"})
    )
    assert rec.source.tlp.value == "CLEAR" and rec.source.license == "LicenseRef-acme-terms"


def test_content_hash_is_canonical() -> None:
    a = validate_record(
        record_data(
            "mcq", content={"question": "q", "choices": {"A": "x", "B": "y"}, "answer": "A"}
        )
    )
    b = validate_record(
        record_data(
            "mcq", content={"answer": "a", "choices": {"A": "x", "B": "y"}, "question": "q"}
        )
    )
    assert a.content_hash == b.content_hash and a.id != b.id


def test_restrictions_grammar() -> None:
    assert problem(record_data("document", restrictions=["nobody"]))[0] == "restrictions"
