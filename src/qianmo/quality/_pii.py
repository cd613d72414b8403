"""`pii`: emails, phones, Chinese resident IDs, bank cards, passports → typed placeholders.

Digits touching Chinese characters (`银行卡4111111111111111`) defeat `\\b`, so every pattern
uses look-arounds on ASCII letters and digits instead. Security indicators (IPs, domains,
URLs, hashes, CVE/ATT&CK ids) are content, not personal data, and no pattern here takes them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from pydantic import Field

from qianmo.quality._fields import map_text, texts
from qianmo.quality._step import Step, StepOptions, Verdict, register_step, set_flag
from qianmo.standard import PersonalInfo, Record

_L = r"(?<![0-9A-Za-z_])"  # not preceded by an ASCII word character (CJK is fine)
_R = r"(?![0-9A-Za-z_])"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_card_valid(number: str) -> bool:
    """GB 11643 checksum and a plausible birth date: an invalid checksum is not an ID."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    month, day = int(number[10:12]), int(number[12:14])
    if not (1 <= month <= 12 and 1 <= day <= 31 and number[6:8] in {"19", "20"}):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in number if d.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_EMAIL = re.compile(rf"{_L}[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{{2,}}")
_ID_CARD = re.compile(rf"{_L}(\d{{17}}[\dXx]){_R}")
_BANK_CARD = re.compile(rf"{_L}([3-6]\d{{3}}(?:[ -]?\d{{4}}){{2}}[ -]?\d{{3,7}}){_R}")
_CN_MOBILE = re.compile(
    rf"(?<![0-9A-Za-z_+])(?:(?:\+|00)?86[ -]?)?1[3-9]\d[ -]?\d{{4}}[ -]?\d{{4}}{_R}"
)
_CN_LANDLINE = re.compile(rf"{_L}(?:\(0\d{{2,3}}\)|0\d{{2,3}}-)\d{{7,8}}{_R}")
_E164 = re.compile(rf"(?<![0-9A-Za-z_+])\+[1-9](?:[ -]?\d){{7,14}}{_R}")
_PASSPORT = re.compile(
    rf"(?i:护照(?:号码?)?|passport(?:\s*(?:no\.?|number|#))?)\s*[:：]?\s*{_L}([A-Z]{{1,2}}\d{{7,8}}){_R}"
)
_CN_PASSPORT = re.compile(rf"{_L}(?:[EG]\d{{8}}|E[A-HJ-NP-Z]\d{{7}}){_R}")

KINDS = ["email", "id_card", "bank_card", "phone", "passport"]


class PIIOptions(StepOptions):
    redact: bool = Field(True, description="replace what is found; off: flag it unresolved")
    kinds: list[str] = Field(default_factory=lambda: list(KINDS))
    keep_by_source: dict[str, list[str]] = Field(
        default_factory=dict, description="source name → kinds that source may keep"
    )


# Necessary conditions, checked once per text before the patterns that need them: most
# texts hold no `@`, no `+` and no run of four digits, and skip the eight regex passes (the
# step's main cost).
_RUN4 = re.compile(r"\d{4}")
Gate = Callable[[str], bool]


def _has_at(text: str) -> bool:
    return "@" in text


def _has_plus(text: str) -> bool:
    return "+" in text


def _has_digits(text: str) -> bool:
    return _RUN4.search(text) is not None


def _has_passport_word(text: str) -> bool:
    # casefold, not lower: the pattern's `(?i:` also matches "paſsport" (ſ folds to s)
    return "护照" in text or "passport" in text.casefold()


def _always(_: str) -> bool:
    return True


@dataclass(frozen=True)
class _Scanner:
    kind: str
    label: str
    pattern: re.Pattern[str]
    check: Callable[[str], bool]  # is the matched value really one (checksum, Luhn)?
    gate: Gate = _has_digits

    def replace(self, text: str, counts: Counter[str]) -> str:
        def one(m: re.Match[str]) -> str:
            value = m.group(m.lastindex or 0)
            if not self.check(value):
                return m.group(0)
            counts[self.label] += 1
            start = m.start(m.lastindex or 0) - m.start(0)
            return m.group(0)[:start] + f"<PII:{self.label}>"

        return self.pattern.sub(one, text)


# In a safe order: IDs before cards, cards before phones.
_SCANNERS = (
    _Scanner("email", "EMAIL", _EMAIL, _always, _has_at),
    _Scanner("id_card", "ID_CARD", _ID_CARD, id_card_valid),
    _Scanner("bank_card", "BANK_CARD", _BANK_CARD, luhn_valid),
    _Scanner("passport", "PASSPORT", _PASSPORT, _always, _has_passport_word),
    _Scanner("passport", "PASSPORT", _CN_PASSPORT, _always),
    _Scanner("phone", "PHONE", _CN_MOBILE, _always),
    _Scanner("phone", "PHONE", _CN_LANDLINE, _always),
    _Scanner("phone", "PHONE", _E164, _always, _has_plus),
)


@cache
def scanners(kinds: frozenset[str]) -> tuple[_Scanner, ...]:
    return tuple(s for s in _SCANNERS if s.kind in kinds)


def scan(text: str, found: Sequence[_Scanner], counts: Counter[str]) -> str:
    """The text with what `found` recognises replaced; `counts` counts it by label."""
    passed: dict[Gate, bool] = {}
    for scanner in found:
        gate = scanner.gate
        ok = passed.get(gate)
        if ok is None:
            ok = passed[gate] = gate(text)
        if ok:
            # placeholders add no digit, `@`, `+` or "passport" before the gate that needs
            # it: a gate false on the original stays false, and one that turned false only
            # costs a scan that finds nothing
            text = scanner.replace(text, counts)
    return text


def redact_pii(text: str, kinds: list[str] | None = None) -> tuple[str, Counter[str]]:
    counts: Counter[str] = Counter()
    return scan(text, scanners(frozenset(kinds or KINDS)), counts), counts


@register_step
class PII(Step):
    name = "pii"
    Options = PIIOptions

    def process(self, record: Record) -> Verdict:
        options = self.options
        assert isinstance(options, PIIOptions)
        kept = set(options.keep_by_source.get(record.source.name, []))
        kinds = [k for k in options.kinds if k not in kept]
        counts: Counter[str] = Counter()
        found = scanners(frozenset(kinds))

        def redact(text: str) -> str:
            return scan(text, found, counts)

        if options.redact:
            changed = map_text(record, redact)
        else:
            for text in texts(record):
                redact(text)
            changed = False
        return self._conclude(record, counts, changed, options.redact)

    def _conclude(
        self, record: Record, counts: Counter[str], changed: bool, redacted: bool
    ) -> Verdict:
        if not counts:
            if record.personal_info in (PersonalInfo.UNKNOWN,):
                record.personal_info = PersonalInfo.NONE
                changed = True
            flagged = "pii" in record.quality.flags
            return Verdict(changed=changed, flags=("pii",) if flagged else ())
        found = dict(sorted(counts.items()))
        changed = set_flag(record, "pii", {"resolved": redacted, "found": found}) or changed
        wanted = PersonalInfo.DEIDENTIFIED if redacted else PersonalInfo.PERSONAL
        if record.personal_info is not wanted:
            record.personal_info, changed = wanted, True
        review = None if redacted else "pii:unresolved"
        return Verdict(changed=changed, review=review, flags=("pii",), detail={"found": found})
