"""The decision function as a table of cases: every rule, both ways."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from qianmo.circulate import decide, load_rules
from tests.helpers.circulate import accepted, request

SA = "CC-BY-SA-4.0"
ND = "CC-BY-ND-4.0"
DERIVED_STEP = {"steps": [{"type": "annotation", "name": "ann-7"}]}

# (case, record overrides, request overrides, expected: "allow", "no-train" or the rule id)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    ("accepted", {}, {}, "allow"),
    ("withdrawn", {"status": "withdrawn"}, {}, "status.withdrawn"),
    ("raw", {"status": "raw"}, {}, "status.not_accepted"),
    ("rejected", {"status": "rejected"}, {}, "status.not_accepted"),
    ("needs review", {"status": "needs_review"}, {}, "status.not_accepted"),
    # TLP against the audience
    ("clear to public", {}, {"audience": "public"}, "allow"),
    ("green to public", {"source": {"tlp": "GREEN"}}, {"audience": "public"}, "tlp.audience"),
    ("green to members", {"source": {"tlp": "GREEN"}}, {}, "allow"),
    ("green to a member", {"source": {"tlp": "GREEN"}}, {"audience": "user:bob"}, "allow"),
    (
        "green to no member",
        {"source": {"tlp": "GREEN"}},
        {"audience": "user:carol"},
        "tlp.audience",
    ),
    ("amber to partner", {"source": {"tlp": "AMBER"}}, {"audience": "org:org-b"}, "allow"),
    ("amber to own user", {"source": {"tlp": "AMBER"}}, {"audience": "user:alice"}, "allow"),
    ("amber to members", {"source": {"tlp": "AMBER"}}, {}, "tlp.audience"),
    ("amber to stranger", {"source": {"tlp": "AMBER"}}, {"audience": "org:org-c"}, "tlp.audience"),
    (
        "amber mixed",
        {"source": {"tlp": "AMBER"}},
        {"audience": "org:org-b org:org-c"},
        "tlp.audience",
    ),
    ("strict to own", {"source": {"tlp": "AMBER+STRICT"}}, {"audience": "org:org-a"}, "allow"),
    (
        "strict to partner",
        {"source": {"tlp": "AMBER+STRICT"}},
        {"audience": "org:org-b"},
        "tlp.audience",
    ),
    (
        "red",
        {"source": {"tlp": "RED"}, "restrictions": ["user:alice"]},
        {"audience": "user:alice"},
        "tlp.red",
    ),
    # classification
    (
        "core",
        {"classification": "core"},
        {"audience": "org:org-a", "approver": "x"},
        "classification.core",
    ),
    (
        "important to members",
        {"classification": "important"},
        {"approver": "x"},
        "classification.important",
    ),
    (
        "important, no approver",
        {"classification": "important"},
        {"audience": "org:org-b"},
        "classification.important",
    ),
    (
        "important to a user",
        {"classification": "important"},
        {"audience": "user:bob", "approver": "x"},
        "classification.important",
    ),
    (
        "important approved",
        {"classification": "important"},
        {"audience": "org:org-b", "approver": "x"},
        "allow",
    ),
    # personal information and findings
    ("pi unknown", {"personal_info": "unknown"}, {}, "personal_info"),
    ("pi personal", {"personal_info": "personal"}, {}, "personal_info"),
    ("pi sensitive", {"personal_info": "sensitive"}, {}, "personal_info"),
    ("pi deidentified", {"personal_info": "deidentified"}, {}, "allow"),
    ("pii open", {"quality": {"flags": {"pii": {"resolved": False}}}}, {}, "flag.blocking"),
    ("pii redacted", {"quality": {"flags": {"pii": {"resolved": True}}}}, {}, "allow"),
    ("secret open", {"quality": {"flags": {"secret": {"resolved": False}}}}, {}, "flag.blocking"),
    ("secret redacted", {"quality": {"flags": {"secret": {"resolved": True}}}}, {}, "allow"),
    ("payload to members", {"quality": {"flags": {"payload": {}}}}, {}, "flag.vetted_only"),
    (
        "payload to stranger",
        {"quality": {"flags": {"payload": {}}}},
        {"audience": "org:org-c"},
        "flag.vetted_only",
    ),
    ("payload to vetted", {"quality": {"flags": {"payload": {}}}}, {"audience": "vetted"}, "allow"),
    (
        "payload to vetted org",
        {"quality": {"flags": {"payload": {}}}},
        {"audience": "org:org-b"},
        "allow",
    ),
    # licence against use
    (
        "nc commercial",
        {"source": {"license": "CC-BY-NC-4.0"}},
        {"use": "commercial-training"},
        "license.use",
    ),
    ("nc research", {"source": {"license": "CC-BY-NC-4.0"}}, {}, "allow"),
    (
        "unknown commercial",
        {"source": {"license": "LicenseRef-unknown"}},
        {"use": "commercial-training"},
        "license.use",
    ),
    ("unknown research", {"source": {"license": "LicenseRef-unknown"}}, {}, "allow"),
    ("by commercial", {}, {"use": "commercial-training"}, "allow"),
    ("nd verbatim", {"source": {"license": ND}}, {}, "allow"),
    (
        "nd annotated",
        {"source": {"license": ND}, "lineage": DERIVED_STEP},
        {},
        "license.no_derivatives",
    ),
    (
        "nd generated",
        {"source": {"license": ND}, "lineage": {"parents": ["01X"]}},
        {},
        "license.no_derivatives",
    ),
    (
        "nd redacted",
        {"source": {"license": ND}, "quality": {"flags": {"pii": {"resolved": True}}}},
        {},
        "license.no_derivatives",
    ),
    (
        "nd deriving release",
        {"source": {"license": ND}},
        {"derives": True},
        "license.no_derivatives",
    ),
    ("sa same", {"source": {"license": SA}}, {"license": SA}, "allow"),
    ("sa other", {"source": {"license": SA}}, {"license": "ODbL-1.0"}, "license.share_alike"),
    ("sa two in one", {"source": {"license": f"{SA} AND ODbL-1.0"}}, {}, "license.share_alike"),
    (
        "stricter than sa",
        {"source": {"license": "CC-BY-NC-4.0"}},
        {"license": SA},
        "license.share_alike",
    ),
    ("freer than sa", {"source": {"license": "MIT"}}, {"license": SA}, "allow"),
    # the contributor's restrictions
    (
        "no commercial use",
        {"restrictions": ["use:commercial"]},
        {"use": "commercial-training"},
        "restriction.use",
    ),
    ("no commercial, research", {"restrictions": ["use:commercial"]}, {}, "allow"),
    (
        "no public",
        {"restrictions": ["audience:public"]},
        {"audience": "public"},
        "restriction.audience",
    ),
    ("no public, members", {"restrictions": ["audience:public"]}, {}, "allow"),
    (
        "no members, public",
        {"restrictions": ["audience:members"]},
        {"audience": "public"},
        "restriction.audience",
    ),
    ("no members, vetted", {"restrictions": ["audience:members"]}, {"audience": "vetted"}, "allow"),
    ("only org-b, to org-b", {"restrictions": ["org:org-b"]}, {"audience": "org:org-b"}, "allow"),
    ("only org-b, to members", {"restrictions": ["org:org-b"]}, {}, "restriction.recipients"),
    (
        "only org-b, to org-c",
        {"restrictions": ["org:org-b"]},
        {"audience": "org:org-c"},
        "restriction.recipients",
    ),
    ("only alice, to alice", {"restrictions": ["user:alice"]}, {"audience": "user:alice"}, "allow"),
    (
        "only alice, to bob",
        {"restrictions": ["user:alice"]},
        {"audience": "user:bob"},
        "restriction.recipients",
    ),
    # never in a training split
    ("eval only", {"eval_only": True}, {}, "no-train"),
    ("contaminated", {"quality": {"flags": {"contaminated": {"eval_item": "x"}}}}, {}, "no-train"),
]


def _outcome(record_overrides: dict[str, Any], request_overrides: dict[str, Any]) -> str:
    verdict = decide(accepted(**record_overrides), request(**request_overrides))
    if not verdict.allowed:
        assert verdict.reason, "every denial says why"
        return str(verdict.rule)
    return "allow" if verdict.train else "no-train"


@pytest.mark.parametrize(("case", "rec", "req", "expected"), CASES, ids=[c[0] for c in CASES])
def test_decision_table(case: str, rec: dict[str, Any], req: dict[str, Any], expected: str) -> None:
    assert _outcome(rec, req) == expected


def test_every_rule_is_exercised_both_ways() -> None:
    denied = {c[3] for c in CASES}
    rules = {rule for rule, _ in load_rules().rules}
    assert rules <= denied, f"rules without a denying case: {sorted(rules - denied)}"
    assert {"allow", "no-train"} <= denied


def test_first_objecting_rule_names_the_decision() -> None:
    rec = accepted(status="withdrawn", source={"tlp": "RED"}, classification="core")
    assert decide(rec, request()).rule == "status.withdrawn"


def test_an_unknown_licence_is_refused_as_unknown_not_as_non_commercial() -> None:
    commercial = request(use="commercial-training")
    unknown = decide(accepted(source={"license": "LicenseRef-unknown"}), commercial)
    assert unknown.reason == "LicenseRef-unknown is of unknown terms: not for commercial-training"
    nc = decide(accepted(source={"license": "CC-BY-NC-4.0"}), commercial)
    assert nc.reason == "CC-BY-NC-4.0 is non-commercial: not for commercial-training"


def test_decide_is_pure() -> None:
    rec, req = accepted(source={"tlp": "AMBER"}), request("org:org-b")
    assert [decide(rec, req) for _ in range(3)] == [decide(rec, req)] * 3


def test_a_use_refusing_non_commercial_licences_refuses_unknown_ones_too() -> None:
    # an unknown licence grants no commercial use: a rule table that lists only
    # non_commercial for a use still keeps it out, and says why
    rules = replace(load_rules(), use_forbids={"commercial-training": ("non_commercial",)})
    commercial = request(use="commercial-training")
    unknown = decide(accepted(source={"license": "LicenseRef-unknown"}), commercial, rules)
    assert unknown.reason == "LicenseRef-unknown is of unknown terms: not for commercial-training"
    assert decide(accepted(source={"license": "MIT"}), commercial, rules).allowed
