"""`decide(record, request)`: the one pure decision on whether a record may go in a release.

Default deny: a record is allowed only when no rule objects. The rules run in the order of
`data/rules.yaml`; the first that denies names the decision. Tables come from that file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from qianmo.circulate._request import ReleaseRequest
from qianmo.circulate._rules import RuleTable, load_rules
from qianmo.circulate._view import RecordView, as_view
from qianmo.standard import LicenseTerms, Record, load_licenses


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str | None = None
    reason: str = ""
    train: bool = True  # False: the record may only go to a validation or test split

    def __str__(self) -> str:
        return "allow" if self.allowed else f"deny({self.rule}: {self.reason})"


ALLOW = Decision(True)


def deny(rule: str, reason: str) -> Decision:
    return Decision(False, rule, reason)


@lru_cache(maxsize=4096)
def license_terms(expression: str) -> LicenseTerms:
    return load_licenses().terms(expression)


def is_derived(record: Record | RecordView, rules: RuleTable) -> bool:
    """Annotated, redacted, generated or otherwise derived from another item."""
    view = as_view(record)
    if view.has_parents or view.step_types & rules.derived_step_types:
        return True
    for name in rules.blocking_flags:
        flag = view.flags.get(name)
        if flag and flag.get("resolved") and flag.get("redacted", True):
            return True  # a resolved pii/secret finding was redacted: the content was edited
    return False


def _status(r: RecordView, q: ReleaseRequest, t: RuleTable) -> Decision | None:
    if r.status == "withdrawn":
        return deny("status.withdrawn", "withdrawn by its contributor")
    if r.status != "accepted":
        return deny("status.not_accepted", f"status is {r.status}, not accepted")
    return None


def _tlp(r: RecordView, q: ReleaseRequest, t: RuleTable) -> Decision | None:
    level, org = r.tlp, r.org
    scope = t.tlp_scope.get(level, "nobody")
    if scope == "nobody":
        return deny("tlp.red", f"TLP:{level} is never released")
    if scope == "anyone":
        return None
    if scope == "members":
        ok, who = q.members_only(), "members of an organisation"
    elif scope == "partners":
        reach = frozenset({org}) | q.directory.partners.get(org, frozenset())
        ok, who = q.within(reach), f"{org or 'its contributor'} and its partners"
    else:
        ok, who = q.within(frozenset({org})), f"{org or 'its contributor'} only"
    if ok:
        return None
    audience = ", ".join(q.audience.specs())
    return deny("tlp.audience", f"TLP:{level} reaches {who}, not {audience}")


def _classification(r: RecordView, q: ReleaseRequest, t: RuleTable) -> Decision | None:
    level = r.classification
    scope = t.classification_scope.get(level, "nobody")
    if scope == "nobody":
        return deny("classification.core", f"{level} data never leaves the workspace")
    if scope == "named_orgs_with_approver":
        named = q.audience.kind == "named" and q.audience.orgs and not q.audience.users
        if not named:
            return deny("classification.important", f"{level} data goes only to named orgs")
        if not q.approver:
            return deny("classification.important", f"{level} data needs an approver")
    return None


def _personal(r: RecordView, q: ReleaseRequest, t: RuleTable) -> Decision | None:
    if r.personal_info not in t.personal_info_allowed:
        allowed = " or ".join(sorted(t.personal_info_allowed))
        return deny("personal_info", f"personal_info is {r.personal_info}, not {allowed}")
    flags = r.flags
    for name in t.blocking_flags:
        if name in flags and not flags[name].get("resolved", False):
            return deny("flag.blocking", f"unresolved {name} finding")
    for name in t.vetted_only_flags:
        if name in flags and not q.vetted_only():
            return deny("flag.vetted_only", f"{name}-flagged: only for vetted audiences")
    return None


def _license(r: RecordView, q: ReleaseRequest, t: RuleTable) -> Decision | None:
    terms = license_terms(r.license)
    properties = {
        "unknown": terms.unknown,
        "academic_only": terms.academic_only,
        "non_commercial": not terms.commercial,
    }
    forbidden = [p for p in t.use_forbids.get(q.use, ()) if properties.get(p)]
    if forbidden:
        # an unknown licence grants no commercial use either (a use forbidding only
        # non_commercial refuses it too), but its reason says that its terms are unknown
        what = "of unknown terms" if terms.unknown else forbidden[0].replace("_", "-")
        return deny("license.use", f"{terms.expression} is {what}: not for {q.use}")
    if terms.no_derivatives and (q.derives or is_derived(r, t)):
        why = "the release derives from it" if q.derives else "the item is derived"
        return deny("license.no_derivatives", f"{terms.expression} forbids derivatives; {why}")
    return share_alike_conflict(terms, q.license)


def share_alike_conflict(terms: LicenseTerms, carried: str | None) -> Decision | None:
    """A share-alike licence forces the release's; two different ones cannot combine."""
    if len(terms.share_alike) > 1:
        both = " and ".join(terms.share_alike)
        return deny("license.share_alike", f"combines share-alike licences {both}")
    if carried is None:
        return None
    if terms.share_alike and terms.share_alike[0] != carried:
        sa = terms.share_alike[0]
        return deny("license.share_alike", f"{sa} cannot combine with {carried}")
    if not terms.share_alike and terms.rank > load_licenses().get(carried).rank:
        return deny(
            "license.share_alike", f"{terms.expression} is stricter than {carried} (carried)"
        )
    return None


def _restrictions(r: RecordView, q: ReleaseRequest, t: RuleTable) -> Decision | None:
    names = t.use_names.get(q.use, frozenset({q.use}))
    width = t.audience_breadth.get(q.audience.kind, 0)
    orgs, users = set(), set()
    for item in r.restrictions:
        prefix, _, value = item.partition(":")
        if prefix == "use" and value in names:
            return deny("restriction.use", f"the contributor forbids use:{value}")
        if prefix == "audience":
            limit = t.audience_breadth.get(value)
            if (limit is not None and width >= limit) or value in q.audience.specs():
                return deny("restriction.audience", f"the contributor forbids audience:{value}")
        if prefix == "org":
            orgs.add(value)
        if prefix == "user":
            users.add(value)
    if (orgs or users) and not _named_within(q, frozenset(orgs), frozenset(users)):
        listed = ", ".join(sorted(r.restrictions))
        return deny("restriction.recipients", f"only for {listed}")
    return None


def _named_within(q: ReleaseRequest, orgs: frozenset[str], users: frozenset[str]) -> bool:
    if q.audience.kind != "named":
        return False
    if any(o not in orgs for o in q.audience.orgs):
        return False
    return all(
        u in users or q.directory.user_orgs.get(u, frozenset()) & orgs for u in q.audience.users
    )


Rule = Callable[[RecordView, ReleaseRequest, RuleTable], Decision | None]
RULES: tuple[Rule, ...] = (_status, _tlp, _classification, _personal, _license, _restrictions)


def decide(
    record: Record | RecordView, request: ReleaseRequest, rules: RuleTable | None = None
) -> Decision:
    """allow, or deny(rule, reason) naming the first rule that objects.

    Takes a `Record` or the `RecordView` of one (what a release check reads from the store)."""
    view = as_view(record)
    table = rules or load_rules()
    for rule in RULES:
        verdict = rule(view, request, table)
        if verdict is not None:
            return verdict
    if view.eval_only:
        return Decision(True, reason="eval_only: never in a training split", train=False)
    for name in table.no_train_flags:
        if name in view.flags:
            return Decision(True, reason=f"{name}: never in a training split", train=False)
    return ALLOW
