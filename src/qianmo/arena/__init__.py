"""The attack-defense range: attacks, converters, targets and defenses, judges, campaigns."""

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
from qianmo.arena._prompt import Prompt
from qianmo.arena._refusal import RefusalVerdict, detect_refusal

__all__ = [
    "ATTACK_TAG",
    "BENIGN_CATEGORY",
    "BENIGN_TAG",
    "CONVERTERS",
    "ENCODINGS",
    "LIBRARY_SOURCE",
    "Encoding",
    "Judge",
    "JudgeCase",
    "LeakJudge",
    "Outcome",
    "Prompt",
    "QuestionJudge",
    "RefusalJudge",
    "RefusalVerdict",
    "RubricJudge",
    "Verdict",
    "apply_chain",
    "benign_requests",
    "categories",
    "converter",
    "detect_refusal",
    "encode_text",
    "find_leak",
    "is_benign",
    "library_attacks",
    "parse_chain",
    "split_text",
]
