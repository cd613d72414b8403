"""The capability benchmark: suites, prompt templates, answer extraction, scorers, runs,
reports and the leaderboard (see docs/evaluation.md)."""

from qianmo.evaluate._extract import (
    Extraction,
    extract_choice,
    extract_cvss,
    extract_ids,
    extract_text,
)
from qianmo.evaluate._hierarchy import Hierarchy, canonical_id, load_hierarchy
from qianmo.evaluate._items import Item
from qianmo.evaluate._job import EVAL_JOB, eval_job, eval_params, run_eval
from qianmo.evaluate._leaderboard import leaderboard
from qianmo.evaluate._prompts import Rotation, Template, load_template, pick_shots, rotate
from qianmo.evaluate._report import bootstrap_ci, item_scores, summarise, timeliness
from qianmo.evaluate._runs import RunConfig, build_tasks, extract, finish_run, rescore, run_suite
from qianmo.evaluate._scorers import (
    Score,
    ScoreContext,
    Scorer,
    cvss_base_score,
    default_scorer,
    get_scorer,
    scorer,
    scorer_names,
)
from qianmo.evaluate._suites import (
    SuiteInfo,
    create_suite,
    get_suite,
    list_suites,
    suite_items,
)

__all__ = [
    "EVAL_JOB",
    "Extraction",
    "Hierarchy",
    "Item",
    "Rotation",
    "RunConfig",
    "Score",
    "ScoreContext",
    "Scorer",
    "SuiteInfo",
    "Template",
    "bootstrap_ci",
    "build_tasks",
    "canonical_id",
    "create_suite",
    "cvss_base_score",
    "default_scorer",
    "eval_job",
    "eval_params",
    "extract",
    "extract_choice",
    "extract_cvss",
    "extract_ids",
    "extract_text",
    "finish_run",
    "get_scorer",
    "get_suite",
    "item_scores",
    "leaderboard",
    "list_suites",
    "load_hierarchy",
    "load_template",
    "pick_shots",
    "rescore",
    "rotate",
    "run_eval",
    "run_suite",
    "scorer",
    "scorer_names",
    "suite_items",
    "summarise",
    "timeliness",
]
