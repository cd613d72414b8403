"""The annotation tables as Core `Table`s, for the statements built once and reused."""

from __future__ import annotations

from sqlalchemy import Table

from qianmo.store import (
    AnnotationAssignmentRow,
    AnnotationItemRow,
    AnnotationLabelRow,
    AnnotationQuestionRow,
    AnnotationSlotRow,
    AnnotatorStatRow,
    CampaignRow,
    MembershipRow,
    OrgPartnerRow,
    OrgRow,
    RecordRow,
    UserRow,
)

SLOTS: Table = AnnotationSlotRow.__table__  # type: ignore[assignment]
ITEMS: Table = AnnotationItemRow.__table__  # type: ignore[assignment]
ASSIGNMENTS: Table = AnnotationAssignmentRow.__table__  # type: ignore[assignment]
LABELS: Table = AnnotationLabelRow.__table__  # type: ignore[assignment]
QUESTIONS: Table = AnnotationQuestionRow.__table__  # type: ignore[assignment]
STATS: Table = AnnotatorStatRow.__table__  # type: ignore[assignment]
CAMPAIGNS: Table = CampaignRow.__table__  # type: ignore[assignment]
RECORDS: Table = RecordRow.__table__  # type: ignore[assignment]
USERS: Table = UserRow.__table__  # type: ignore[assignment]
ORGS: Table = OrgRow.__table__  # type: ignore[assignment]
MEMBERSHIPS: Table = MembershipRow.__table__  # type: ignore[assignment]
ORG_PARTNERS: Table = OrgPartnerRow.__table__  # type: ignore[assignment]
