"""Ordered vocabularies of the data standard: kinds, statuses, TLP 2.0, classification, PII."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    DOCUMENT = "document"
    QA = "qa"
    MCQ = "mcq"
    INSTRUCTION = "instruction"
    CONVERSATION = "conversation"
    PREFERENCE = "preference"
    CODE = "code"
    REDTEAM = "redteam"


class Status(StrEnum):
    RAW = "raw"
    ACCEPTED = "accepted"
    NEEDS_REVIEW = "needs_review"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class TLP(StrEnum):
    """Traffic Light Protocol 2.0, in order from least to most restricted."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"

    @property
    def rank(self) -> int:
        return list(TLP).index(self)


class Classification(StrEnum):
    """Data classification after GB/T 43697-2024, least to most sensitive."""

    GENERAL = "general"
    IMPORTANT = "important"
    CORE = "core"

    @property
    def rank(self) -> int:
        return list(Classification).index(self)


class PersonalInfo(StrEnum):
    UNKNOWN = "unknown"
    NONE = "none"
    DEIDENTIFIED = "deidentified"
    PERSONAL = "personal"
    SENSITIVE = "sensitive"


def strictest_tlp(levels: list[TLP]) -> TLP:
    """The most restricted level among several (records that combine take the highest)."""
    return max(levels, key=lambda t: t.rank) if levels else TLP.CLEAR


def highest_classification(levels: list[Classification]) -> Classification:
    return max(levels, key=lambda c: c.rank) if levels else Classification.GENERAL
