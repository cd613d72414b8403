"""Every scorer on known cases; the id hierarchy comes from the store."""

from __future__ import annotations

import pytest

from qianmo.errors import QianmoError
from qianmo.evaluate import (
    Extraction,
    Item,
    ScoreContext,
    cvss_base_score,
    get_scorer,
    load_hierarchy,
)
from qianmo.store import Database, IdRelationRow


def item(answer: object, kind: str = "mcq", answer_type: str = "text") -> Item:
    content: dict[str, object] = {"question": "q", "answer": answer}
    if kind == "mcq":
        content["choices"] = {"A": "a", "B": "b", "C": "c", "D": "d"}
    else:
        content["answer_type"] = answer_type
    return Item(position=0, record_id="r", kind=kind, lang="en", content=content)


def got(*values: str) -> Extraction:
    return Extraction(list(values), "test")


CTX = ScoreContext()


def score(name: str, it: Item, ex: Extraction, ctx: ScoreContext = CTX) -> float:
    return get_scorer(name)(it, ex, ctx).value


def test_accuracy_and_jaccard() -> None:
    assert score("accuracy", item("B"), got("B")) == 1
    assert score("accuracy", item("B"), got("C")) == 0
    assert score("accuracy", item("B"), Extraction()) == 0
    multi = item(["A", "C"])
    assert score("accuracy", multi, got("A", "C")) == 1
    assert score("accuracy", multi, got("A")) == 0  # exact set: all and only
    assert score("jaccard", multi, got("A")) == 0.5
    assert score("jaccard", multi, got("A", "B", "C")) == pytest.approx(2 / 3)


def test_exact_match_and_token_f1_in_both_languages() -> None:
    it = item("SQL injection", "qa")
    assert score("exact_match", it, got("sql  Injection.")) == 1
    assert score("exact_match", it, got("blind SQL injection")) == 0
    assert score("token_f1", it, got("blind SQL injection")) == pytest.approx(0.8)
    zh = item("跨站脚本攻击", "qa")
    assert score("token_f1", zh, got("跨站脚本")) == pytest.approx(0.8)  # per character
    assert score("token_f1", zh, Extraction()) == 0


def test_id_sets_with_partial_credit_up_the_hierarchy(db: Database) -> None:
    with db.write() as s:
        s.add_all(
            [
                IdRelationRow(scheme="cwe", child="79", relation="ChildOf", parent="74"),
                IdRelationRow(scheme="cwe", child="CWE-74", relation="ChildOf", parent="CWE-707"),
                IdRelationRow(
                    scheme="attack", child="T1059.001", relation="subtechnique-of", parent="T1059"
                ),
            ]
        )
    with db.read() as s:
        ctx = ScoreContext(load_hierarchy(s))
    it = item("CWE-79", "qa", "ids")
    assert score("ids", it, got("CWE-79"), ctx) == 1
    assert score("ids", it, got("CWE-74"), ctx) == 0.5  # parent
    assert score("ids", it, got("CWE-707"), ctx) == 0.25  # grandparent
    assert score("ids", it, got("CWE-89"), ctx) == 0
    assert score("ids_exact", it, got("CWE-74"), ctx) == 0
    # precision suffers from extra ids: P = 1/2, R = 1 → F1 = 2/3
    assert score("ids", it, got("CWE-79", "CWE-89"), ctx) == pytest.approx(2 / 3)
    tech = item("T1059.001", "qa", "ids")
    assert score("ids", tech, got("T1059"), ctx) == 0.5
    child = item("T1059", "qa", "ids")
    assert score("ids", child, got("T1059.001"), ctx) == 0.5  # more specific: also half


def test_cvss_absolute_deviation_of_base_scores() -> None:
    truth = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert cvss_base_score(truth) == 9.8
    assert cvss_base_score("AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N") == 6.5
    assert cvss_base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P") == 7.5
    it = item(truth, "qa", "cvss")
    exact = get_scorer("cvss")(it, got(truth), CTX)
    assert exact.value == 1 and exact.metrics == {"abs_error": 0.0}
    off = get_scorer("cvss")(it, got("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N"), CTX)
    assert off.metrics["abs_error"] == pytest.approx(3.3) and off.value == pytest.approx(0.67)
    assert score("cvss", it, got("CVSS:3.1/AV:Q")) == 0
    with pytest.raises(QianmoError, match="not a CVSS vector"):
        cvss_base_score("CVSS:3.1/AV:Q")


def test_unknown_scorer_names_the_choices() -> None:
    with pytest.raises(QianmoError, match="token_f1"):
        get_scorer("nope")
