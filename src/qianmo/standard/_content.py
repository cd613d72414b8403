"""The `content` of each record kind, validated strictly."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from qianmo.standard._levels import Kind


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Text = Annotated[str, AfterValidator(_not_blank)]


class _Content(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class DocumentContent(_Content):
    title: str | None = None
    text: Text


class QAContent(_Content):
    question: Text
    answer: Text
    answer_type: Literal["text", "ids", "cvss"] = "text"
    rationale: str | None = None


def _choice_pairs(raw: Any) -> list[tuple[str, str]]:
    """Choices as (label, text) pairs; lists keep duplicates so they can be reported."""
    if isinstance(raw, dict):
        return [(str(k), v) for k, v in raw.items()]
    if isinstance(raw, list):
        pairs: list[tuple[str, str]] = []
        for item in raw:
            if isinstance(item, dict) and set(item) == {"label", "text"}:
                pairs.append((str(item["label"]), item["text"]))
            elif isinstance(item, list | tuple) and len(item) == 2:
                pairs.append((str(item[0]), item[1]))
            else:
                raise ValueError("each choice must be {label, text} or [label, text]")
        return pairs
    raise ValueError("must be an object of label → text or a list of [label, text]")


class MCQContent(_Content):
    question: Text
    choices: dict[str, Text]
    answer: str | list[str]
    explanation: str | None = None

    @field_validator("choices", mode="before")
    @classmethod
    def _labels_unique(cls, raw: Any) -> dict[str, Any]:
        pairs = _choice_pairs(raw)
        labels = [label.strip() for label, _ in pairs]
        dupes = sorted({label for label in labels if labels.count(label) > 1})
        if dupes:
            raise ValueError(f"duplicate choice label(s): {', '.join(dupes)}")
        if any(not label for label in labels):
            raise ValueError("a choice label is empty")
        if len(pairs) < 2:
            raise ValueError("needs at least two choices")
        return {label: text for label, (_, text) in zip(labels, pairs, strict=True)}

    @model_validator(mode="after")
    def _answer_among_choices(self) -> MCQContent:
        answers = [self.answer] if isinstance(self.answer, str) else list(self.answer)
        if not answers or any(not a.strip() for a in answers):
            raise ValueError("answer: must name at least one choice")
        by_upper = {label.upper(): label for label in self.choices}
        fixed: list[str] = []
        for a in answers:
            label = a.strip() if a.strip() in self.choices else by_upper.get(a.strip().upper())
            if label is None:
                raise ValueError(f"answer: {a!r} is not among the choices {list(self.choices)}")
            fixed.append(label)
        if len(set(fixed)) != len(fixed):
            raise ValueError("answer: names a choice twice")
        self.answer = fixed[0] if isinstance(self.answer, str) else fixed
        return self

    @property
    def answers(self) -> list[str]:
        return [self.answer] if isinstance(self.answer, str) else list(self.answer)


class InstructionContent(_Content):
    instruction: Text
    input: str | None = None
    output: Text


class Message(_Content):
    role: Literal["system", "user", "assistant", "tool"]
    content: Text


class ConversationContent(_Content):
    messages: list[Message] = Field(min_length=1)


class PreferenceContent(_Content):
    prompt: Text
    chosen: Text
    rejected: Text


class CodeContent(_Content):
    language: Text
    code: Text
    label: Literal["vulnerable", "fixed", "benign"]
    cwe: str | None = Field(default=None, pattern=r"^CWE-\d+$")
    fix: str | None = None
    explanation: str | None = None


class RedteamContent(_Content):
    turns: list[Text] = Field(min_length=1)
    system_prompt: str | None = None
    injected_context: str | None = None
    category: Text
    variant: str | None = None
    judge_question: str | None = None
    defense_id: str | None = None
    target_response: str | None = None
    judgement: Literal["success", "failure", "undetermined"] | None = None


CONTENT_MODELS: dict[Kind, type[_Content]] = {
    Kind.DOCUMENT: DocumentContent,
    Kind.QA: QAContent,
    Kind.MCQ: MCQContent,
    Kind.INSTRUCTION: InstructionContent,
    Kind.CONVERSATION: ConversationContent,
    Kind.PREFERENCE: PreferenceContent,
    Kind.CODE: CodeContent,
    Kind.REDTEAM: RedteamContent,
}

Content = (
    DocumentContent
    | QAContent
    | MCQContent
    | InstructionContent
    | ConversationContent
    | PreferenceContent
    | CodeContent
    | RedteamContent
)


# Labels and enumerations: never prose, so neither searched nor scanned nor edited.
LABEL_FIELDS = frozenset(
    {"answer_type", "label", "language", "role", "judgement", "category", "variant"}
)


def content_text(kind: Kind | str, content: dict[str, Any]) -> str:
    """All human-readable text of a content, joined: what search, dedup and PII scans read."""
    parts: list[str] = []
    for key, value in content.items():
        if key in LABEL_FIELDS:
            continue
        if value.__class__ is str:  # most fields are plain text: no call for them (export)
            if value:
                parts.append(value)
        else:
            _walk(value, parts)
    return "\n".join(parts)  # empty strings never enter `parts`


def _walk(value: Any, parts: list[str]) -> None:
    # A module function, not a closure: a recursive closure is a reference cycle per call,
    # which a release export (collector paused) kept until the end of each split (~25,000
    # unreachable objects a 5,000-row page).
    if isinstance(value, str):
        if value:
            parts.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _walk(v, parts)
    elif isinstance(value, list):
        for v in value:
            _walk(v, parts)
