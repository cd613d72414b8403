"""Circulation: the decision function, releases (snapshots, splits, cards, diffs) and exports."""

from qianmo.circulate._check import CheckReport, Denial, Member, check, decision_table, evaluate
from qianmo.circulate._decide import Decision, decide, deny, is_derived
from qianmo.circulate._directory import load_directory, resolve
from qianmo.circulate._outright import refusal
from qianmo.circulate._request import USES, Audience, Directory, ReleaseRequest
from qianmo.circulate._rules import RuleTable, load_rules

__all__ = [
    "USES",
    "Audience",
    "CheckReport",
    "Decision",
    "Denial",
    "Directory",
    "Member",
    "ReleaseRequest",
    "RuleTable",
    "check",
    "decide",
    "decision_table",
    "deny",
    "evaluate",
    "is_derived",
    "load_directory",
    "load_rules",
    "refusal",
    "resolve",
]
