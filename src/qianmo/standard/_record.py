"""The one `Record` model used everywhere (data standard v1)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import orjson
import xxhash
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from ulid import ULID

from qianmo.standard._content import CONTENT_MODELS, content_text
from qianmo.standard._levels import TLP, Classification, Kind, PersonalInfo, Status
from qianmo.standard._licenses import load_licenses
from qianmo.standard._taxonomy import load_taxonomy

STANDARD_VERSION = "1"
_LANG = re.compile(r"^(?:[a-z]{2,3}|mul|und)$")
_ID_PATTERNS = {
    "cve": re.compile(r"^CVE-\d{4}-\d{4,}$"),
    "cwe": re.compile(r"^CWE-\d+$"),
    "capec": re.compile(r"^CAPEC-\d+$"),
    # techniques, sub-techniques, tactics, groups, software, mitigations, campaigns, data sources
    "attack": re.compile(r"^(?:T\d{4}(?:\.\d{3})?|TA\d{4}|G\d{4}|S\d{4}|M\d{4}|C\d{4}|DS\d{4})$"),
}


def new_id() -> str:
    """A stable, time-sortable record id (ULID)."""
    return str(ULID())


def utcnow() -> datetime:
    return datetime.now(UTC)


def canonical_json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def content_hash(kind: str, content: dict[str, Any]) -> str:
    """Hash of the canonical content: equal for records that say exactly the same thing."""
    return xxhash.xxh3_128_hexdigest(canonical_json({"kind": kind, "content": content}))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class Refs(_Strict):
    cve: list[str] = Field(default_factory=list)
    cwe: list[str] = Field(default_factory=list)
    capec: list[str] = Field(default_factory=list)
    attack: list[str] = Field(default_factory=list)
    urls: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _normalise_ids(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for key, pattern in _ID_PATTERNS.items():
            values = out.get(key) or []
            if isinstance(values, str):
                values = [values]
            fixed: list[str] = []
            for v in values:
                norm = str(v).strip().upper()
                if key in {"cwe", "capec"} and norm.isdigit():
                    norm = f"{key.upper()}-{norm}"
                if not pattern.match(norm):
                    raise ValueError(f"{key}: {v!r} is not a valid {key.upper()} id")
                if norm not in fixed:
                    fixed.append(norm)
            out[key] = fixed
        return out


def _parse_when(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as e:
            raise ValueError(f"{value!r} is not an ISO 8601 date or date-time") from e
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"{value!r} is not a date")


class Source(_Strict):
    name: str = Field(min_length=1)
    org: str | None = None
    original_id: str | None = None
    url: str | None = None
    license: str = "LicenseRef-unknown"
    tlp: TLP = TLP.CLEAR
    collected_at: datetime | None = None
    evidence: str | None = None

    @field_validator("license")
    @classmethod
    def _known_license(cls, value: str) -> str:
        return load_licenses().normalize(value)

    @field_validator("tlp", mode="before")
    @classmethod
    def _tlp_spelling(cls, value: Any) -> Any:
        if isinstance(value, str):
            v = value.strip().upper().removeprefix("TLP:")
            return "CLEAR" if v == "WHITE" else v  # TLP 1.0's WHITE became CLEAR in 2.0
        return value

    @field_validator("collected_at", mode="before")
    @classmethod
    def _when(cls, value: Any) -> Any:
        return _parse_when(value)


class Quality(_Strict):
    score: float | None = Field(default=None, ge=0.0, le=1.0)
    flags: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def unresolved(self) -> list[str]:
        """Flags not yet resolved (found, and neither redacted nor cleared by a person)."""
        return [name for name, f in self.flags.items() if not f.get("resolved", False)]


class LineageStep(_Strict):
    """One thing that produced or changed the record: an import, a step, a person, a run."""

    type: str
    name: str
    at: datetime = Field(default_factory=utcnow)
    detail: dict[str, Any] = Field(default_factory=dict)


class Lineage(_Strict):
    root: str | None = None
    parents: list[str] = Field(default_factory=list)
    steps: list[LineageStep] = Field(default_factory=list)


class Record(_Strict):
    id: str = Field(default_factory=new_id)
    kind: Kind
    content: dict[str, Any]
    lang: str = "und"
    domain: str | None = None
    tags: list[str] = Field(default_factory=list)
    refs: Refs = Field(default_factory=Refs)
    source: Source
    published_at: datetime | None = None
    valid_as_of: datetime | None = None
    classification: Classification = Classification.GENERAL
    personal_info: PersonalInfo = PersonalInfo.UNKNOWN
    eval_only: bool = False
    restrictions: list[str] = Field(default_factory=list)
    content_hash: str = ""
    version: int = Field(default=1, ge=1)
    status: Status = Status.RAW
    status_reason: str | None = None
    quality: Quality = Field(default_factory=Quality)
    lineage: Lineage = Field(default_factory=Lineage)

    @field_validator("lang", mode="before")
    @classmethod
    def _lang(cls, value: Any) -> Any:
        if isinstance(value, str):
            primary = value.strip().replace("_", "-").split("-")[0].lower()
            if not _LANG.match(primary):
                raise ValueError(f"{value!r} is not a BCP 47 language tag")
            return primary
        return value

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is not None and value not in load_taxonomy():
            raise ValueError(f"{value!r} is not a taxonomy code (see `qianmo taxonomy show`)")
        return value

    @field_validator("published_at", "valid_as_of", mode="before")
    @classmethod
    def _when(cls, value: Any) -> Any:
        return _parse_when(value)

    @field_validator("restrictions")
    @classmethod
    def _restrictions(cls, value: list[str]) -> list[str]:
        for item in value:
            prefix = item.split(":", 1)[0]
            if ":" not in item or prefix not in {"use", "audience", "user", "org"}:
                raise ValueError(
                    f"{item!r}: write use:USE, audience:AUDIENCE, org:ORG or user:NAME"
                )
        return value

    @model_validator(mode="after")
    def _content_fits_kind(self) -> Record:
        model = CONTENT_MODELS[self.kind]
        self.content = model.model_validate(self.content).model_dump(exclude_none=True)
        self.content_hash = content_hash(self.kind.value, self.content)
        if self.lineage.root is None:
            self.lineage.root = self.id
        return self

    def typed_content(self) -> Any:
        return CONTENT_MODELS[self.kind].model_validate(self.content)

    def text(self) -> str:
        """All readable text of the record, for search, dedup and scans."""
        return content_text(self.kind, self.content)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
