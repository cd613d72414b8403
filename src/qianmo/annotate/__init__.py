"""Crowdsourced annotation: campaigns, question types, leases with exact overlap, gold items,
blind labelling, review and write-back to records with lineage."""

from qianmo.annotate._answers import agree, check_answer, matches_gold
from qianmo.annotate._campaigns import (
    CAMPAIGN_TYPE,
    Campaign,
    add_question,
    campaign_questions,
    create_campaign,
    get_campaign,
    list_campaigns,
    mark_gold,
    parse_config,
)
from qianmo.annotate._claim import Task, claim, let_go
from qianmo.annotate._config import CampaignConfig
from qianmo.annotate._next import SubmittedNext, submit_next
from qianmo.annotate._questions import TYPES, Question, load_questions, parse_spec
from qianmo.annotate._review import (
    Decision,
    LabelView,
    ReviewItem,
    review_item,
    review_queue,
    settle,
    visible_labels,
)
from qianmo.annotate._status import Progress, QuestionAgreement, agreement, export_rows, progress
from qianmo.annotate._submit import Submitted, submit
from qianmo.annotate._warm import warm_up

__all__ = [
    "CAMPAIGN_TYPE",
    "TYPES",
    "Campaign",
    "CampaignConfig",
    "Decision",
    "LabelView",
    "Progress",
    "Question",
    "QuestionAgreement",
    "ReviewItem",
    "Submitted",
    "SubmittedNext",
    "Task",
    "add_question",
    "agree",
    "agreement",
    "campaign_questions",
    "check_answer",
    "claim",
    "create_campaign",
    "export_rows",
    "get_campaign",
    "let_go",
    "list_campaigns",
    "load_questions",
    "mark_gold",
    "matches_gold",
    "parse_config",
    "parse_spec",
    "progress",
    "review_item",
    "review_queue",
    "settle",
    "submit",
    "submit_next",
    "visible_labels",
    "warm_up",
]
