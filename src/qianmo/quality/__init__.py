"""Quality pipeline: steps over streams of records, pipelines in YAML, local and Ray executors.

Importing the package registers every built-in step and the `quality` job handler.
"""

from qianmo.quality import _job as _job
from qianmo.quality._contamination import Contamination, EvalIndex
from qianmo.quality._dedup import ExactDedup, Member, NearDedup, cluster_decisions, near_clusters
from qianmo.quality._executors import LocalExecutor, RayExecutor, make_executor
from qianmo.quality._freshness import Freshness
from qianmo.quality._heuristics import Heuristics, answer_skew
from qianmo.quality._language import Language, detect
from qianmo.quality._minhash import MinHasher, ngram_hashes, optimal_bands
from qianmo.quality._normalize import Normalize, normalize_text
from qianmo.quality._payload import PayloadGate, find_payloads
from qianmo.quality._pii import PII, id_card_valid, luhn_valid, redact_pii
from qianmo.quality._pipeline import (
    PipelineSpec,
    StepSpec,
    default_pipeline,
    load_pipeline,
    parse_pipeline,
    pipeline_of_steps,
)
from qianmo.quality._report import latest_run, render_html, run_report
from qianmo.quality._run import RunOptions, run_quality
from qianmo.quality._secrets import Secrets, find_secrets
from qianmo.quality._step import (
    CorpusStep,
    Decision,
    Step,
    StepOptions,
    StepStats,
    Verdict,
    register_step,
    set_flag,
    step_names,
)
from qianmo.quality._text import han_share, tokens

__all__ = [
    "PII",
    "Contamination",
    "CorpusStep",
    "Decision",
    "EvalIndex",
    "ExactDedup",
    "Freshness",
    "Heuristics",
    "Language",
    "LocalExecutor",
    "Member",
    "MinHasher",
    "NearDedup",
    "Normalize",
    "PayloadGate",
    "PipelineSpec",
    "RayExecutor",
    "RunOptions",
    "Secrets",
    "Step",
    "StepOptions",
    "StepSpec",
    "StepStats",
    "Verdict",
    "answer_skew",
    "cluster_decisions",
    "default_pipeline",
    "detect",
    "find_payloads",
    "find_secrets",
    "han_share",
    "id_card_valid",
    "latest_run",
    "load_pipeline",
    "luhn_valid",
    "make_executor",
    "near_clusters",
    "ngram_hashes",
    "normalize_text",
    "optimal_bands",
    "parse_pipeline",
    "pipeline_of_steps",
    "redact_pii",
    "register_step",
    "render_html",
    "run_quality",
    "run_report",
    "set_flag",
    "step_names",
    "tokens",
]
