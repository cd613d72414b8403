"""Circulation: the decision function, releases (snapshots, splits, cards, diffs) and exports."""

from qianmo.circulate._access import get_visible_release, release_visible, visible_releases
from qianmo.circulate._check import CheckReport, check, decision_table, evaluate
from qianmo.circulate._decide import Decision, decide, deny, is_derived
from qianmo.circulate._diff import ReleaseDiff, diff_releases
from qianmo.circulate._directory import load_directory, resolve
from qianmo.circulate._export import FORMATS, export_release
from qianmo.circulate._manifest import VerifyReport, verify_export
from qianmo.circulate._members import Denial, DenialTable, Member, MemberTable, Profile
from qianmo.circulate._outright import refusal
from qianmo.circulate._pseudonym import pseudonym
from qianmo.circulate._release import (
    SnapshotMember,
    check_version,
    create_release,
    get_release,
    list_releases,
    snapshot,
)
from qianmo.circulate._request import USES, Audience, Directory, ReleaseRequest
from qianmo.circulate._rules import RuleTable, load_rules
from qianmo.circulate._splits import SPLITS, assign_splits
from qianmo.circulate._view import RecordView

__all__ = [
    "FORMATS",
    "SPLITS",
    "USES",
    "Audience",
    "CheckReport",
    "Decision",
    "Denial",
    "DenialTable",
    "Directory",
    "Member",
    "MemberTable",
    "Profile",
    "RecordView",
    "ReleaseDiff",
    "ReleaseRequest",
    "RuleTable",
    "SnapshotMember",
    "VerifyReport",
    "assign_splits",
    "check",
    "check_version",
    "create_release",
    "decide",
    "decision_table",
    "deny",
    "diff_releases",
    "evaluate",
    "export_release",
    "get_release",
    "get_visible_release",
    "is_derived",
    "list_releases",
    "load_directory",
    "load_rules",
    "pseudonym",
    "refusal",
    "release_visible",
    "resolve",
    "snapshot",
    "verify_export",
    "visible_releases",
]
