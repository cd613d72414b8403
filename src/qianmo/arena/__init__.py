"""The attack-defense range: attacks, converters, targets and defenses, judges, campaigns.

Models are `qianmo.llm` backends; campaigns run on its batch runner, as store jobs."""

from qianmo.arena._campaign import (
    CAMPAIGN_TYPE,
    JUDGES,
    CampaignConfig,
    attempts,
    canary_for,
    get_campaign,
    list_campaigns,
    load_library,
    run_campaign,
    secret_for,
)
from qianmo.arena._classifier import (
    InputClassifier,
    default_classifier,
    holdout_scores,
    train_classifier,
)
from qianmo.arena._converters import (
    CONVERTERS,
    ENCODINGS,
    Encoding,
    apply_chain,
    converter,
    encode_text,
    parse_chain,
    split_text,
)
from qianmo.arena._defenses import (
    DefenseStack,
    FilterSpec,
    builtin_defenses,
    load_defenses,
    resolve_defenses,
)
from qianmo.arena._job import ARENA_JOB, PLANTED, campaign_job, campaign_params, run_campaign_job
from qianmo.arena._judges import (
    Judge,
    JudgeCase,
    LeakJudge,
    Outcome,
    QuestionJudge,
    RefusalJudge,
    RubricJudge,
    Verdict,
)
from qianmo.arena._leak import find_leak
from qianmo.arena._library import (
    ATTACK_TAG,
    BENIGN_CATEGORY,
    BENIGN_TAG,
    LIBRARY_SOURCE,
    benign_requests,
    categories,
    is_benign,
    library_attacks,
)
from qianmo.arena._planted import PlantedServer, naive_model
from qianmo.arena._prompt import Prompt
from qianmo.arena._refusal import RefusalVerdict, detect_refusal
from qianmo.arena._report import heatmap_svg, render_html
from qianmo.arena._stats import defense_score, summarise, wilson
from qianmo.arena._target import Target, TargetReply

__all__ = [
    "ARENA_JOB",
    "ATTACK_TAG",
    "BENIGN_CATEGORY",
    "BENIGN_TAG",
    "CAMPAIGN_TYPE",
    "CONVERTERS",
    "ENCODINGS",
    "JUDGES",
    "LIBRARY_SOURCE",
    "PLANTED",
    "CampaignConfig",
    "DefenseStack",
    "Encoding",
    "FilterSpec",
    "InputClassifier",
    "Judge",
    "JudgeCase",
    "LeakJudge",
    "Outcome",
    "PlantedServer",
    "Prompt",
    "QuestionJudge",
    "RefusalJudge",
    "RefusalVerdict",
    "RubricJudge",
    "Target",
    "TargetReply",
    "Verdict",
    "apply_chain",
    "attempts",
    "benign_requests",
    "builtin_defenses",
    "campaign_job",
    "campaign_params",
    "canary_for",
    "categories",
    "converter",
    "default_classifier",
    "defense_score",
    "detect_refusal",
    "encode_text",
    "find_leak",
    "get_campaign",
    "heatmap_svg",
    "holdout_scores",
    "is_benign",
    "library_attacks",
    "list_campaigns",
    "load_defenses",
    "load_library",
    "naive_model",
    "parse_chain",
    "render_html",
    "resolve_defenses",
    "run_campaign",
    "run_campaign_job",
    "secret_for",
    "split_text",
    "summarise",
    "train_classifier",
    "wilson",
]
