"""Answer extraction from real chat output, in English and Chinese.

Python's `\\b` treats CJK characters as word characters, so `正确答案是B` has no boundary
before `B`. Every letter match here uses ASCII-letter lookarounds instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

INVALID = "invalid"


@dataclass(frozen=True)
class Extraction:
    """What was read from a response: `value` (labels, ids, a vector or text) and how."""

    value: list[str] = field(default_factory=list)
    method: str = INVALID

    @property
    def valid(self) -> bool:
        return self.method != INVALID

    def as_dict(self) -> dict[str, object]:
        return {"value": self.value, "method": self.method}


def _normalise(text: str) -> str:
    # Full-width letters and punctuation (Ａ, （, ：) become ASCII; markdown emphasis goes.
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[*_`#]+", "", text).strip()


_SEP = r"(?:\s*(?:,|，|、|/|&|\band\b|和|与|及|以及|\s)\s*)"
# Strong markers name the answer; weak ones (`option C`) only count when no strong one does.
_STRONG = r"(?:final\s+answer|correct\s+answer|answer|最终答案|正确答案|答案|答)"
_WEAK = r"(?:correct\s+option|correct\s+choice|option|choice|正确选项|选项|应选|我选|选择|选)"
_VERB = r"(?:\s*(?:is|are|would\s+be|should\s+be|:|=|是|为|应为|应该是|选))*\s*"


def _label_group(labels: str) -> str:
    upper = "".join(c for c in labels if not c.islower())
    lower = "".join(c for c in labels if c.islower())
    # a lower-case letter followed by a word is the article "a", not option A
    one = rf"(?<![A-Za-z])(?:[{upper}](?![A-Za-z])|[{lower}](?![A-Za-z])(?!\s+[A-Za-z]{{2}}))"
    joined = rf"(?<![A-Za-z])[{upper}]{{2,{len(upper)}}}(?![A-Za-z])"  # `AC` for A and C
    return rf"[(\[]?({joined}|{one}(?:{_SEP}?[(\[]?{one}[)\]]?)*)[)\]]?"


def _labels_in(fragment: str, choices: Mapping[str, str]) -> list[str]:
    by_upper = {label.upper(): label for label in choices}
    found: list[str] = []
    for ch in re.findall(r"[A-Za-z0-9]", re.sub(r"(?i)\band\b", " ", fragment)):
        label = by_upper.get(ch.upper())
        if label is not None and label not in found:
            found.append(label)
    return found


@lru_cache(maxsize=64)
def _marker_patterns(labels: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    letters = "".join(sorted({c.upper() for c in labels} | {c.lower() for c in labels}))
    group = _label_group(letters)
    # IGNORECASE would let [A-D] match "a"; markers are matched case-insensitively by hand.
    strong = re.compile(rf"(?i:{_STRONG}){_VERB}{group}")
    weak = re.compile(rf"(?i:{_WEAK}){_VERB}{group}")
    return strong, weak


def _marker(text: str, choices: Mapping[str, str]) -> list[str]:
    for pattern in _marker_patterns("".join(choices)):
        hits = list(pattern.finditer(text))
        if hits:
            return _labels_in(hits[-1].group(1), choices)
    return []


def _line_start(line: str, choices: Mapping[str, str]) -> list[str]:
    """`B`, `(B)`, `B.`, `B) text`, `B: text`, `b` — a line that starts with the answer."""
    labels = re.escape("".join(choices))
    m = re.match(rf"^[(\[]?([{labels}])(?:[)\].:：、,]|\s*$|\s+-)", line)
    if m:
        return [m.group(1)]
    m = re.match(rf"^[(\[]?([{labels.lower()}])(?:[)\]]|\.?\s*$)", line)
    return _labels_in(m.group(1), choices) if m else []


def _only_labels(line: str, choices: Mapping[str, str]) -> list[str]:
    """A line made only of labels: `A, C`, `AC`, `A和C`."""
    letters = re.escape("".join({c.upper() for c in choices} | {c.lower() for c in choices}))
    if re.fullmatch(rf"[(\[]?[{letters}](?:{_SEP}?[{letters}])*[)\].。]?", line):
        return _labels_in(line, choices)
    return []


def _fold(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


def _option_text(text: str, choices: Mapping[str, str]) -> list[str]:
    """The option's text instead of its letter: the whole reply, its last line, or a phrase."""
    folded = {label: _fold(body) for label, body in choices.items() if _fold(body)}
    lines = [ln for ln in text.splitlines() if ln.strip()]
    for candidate in (text, lines[-1] if lines else ""):
        c = _fold(candidate)
        exact = [label for label, body in folded.items() if body == c]
        if len(exact) == 1:
            return exact
    whole = f" {_fold(text)} "
    inside = [label for label, body in folded.items() if f" {body} " in whole]
    # only when one option is named and it is not part of another option's text
    if len(inside) == 1 and not any(
        folded[inside[0]] in b for lab, b in folded.items() if lab != inside[0]
    ):
        return inside
    return []


def extract_choice(
    text: str | None, choices: Mapping[str, str], *, multi: bool = False
) -> Extraction:
    """The chosen label(s) in a reply, or an invalid extraction.

    Order: an explicit marker (`ANSWER: B`, `答案：B`, `正确答案是B`; the last one wins, so a
    final answer after reasoning counts); a last line that starts with a label; a line of
    labels; the text of exactly one option.
    """
    if not text or not text.strip():
        return Extraction()
    clean = _normalise(text)
    found = _marker(clean, choices)
    if found:
        return _pick(found, multi, "marker")
    lines = [ln.strip() for ln in clean.splitlines() if ln.strip()]
    for line in reversed(lines[-2:]) if lines else []:
        found = _only_labels(line, choices) or _line_start(line, choices)
        if found:
            return _pick(found, multi, "line")
    if lines:
        found = _line_start(lines[0], choices)
        if found:
            return _pick(found, multi, "first_line")
    found = _option_text(clean, choices)
    if found:
        return _pick(found, multi, "option_text")
    return Extraction()


def _pick(found: list[str], multi: bool, method: str) -> Extraction:
    if not multi and len(found) > 1:
        return Extraction()  # several letters for a single-answer item: ambiguous
    return Extraction(sorted(found), method)


_ID = re.compile(
    r"(?<![A-Za-z0-9])(CWE|CAPEC)[-\s_]?(\d{1,5})|(?<![A-Za-z0-9])(T\d{4}(?:\.\d{3})?)(?!\d)", re.I
)


def extract_ids(text: str | None) -> Extraction:
    """CWE, CAPEC and ATT&CK technique ids, normalised (`cwe 79` → `CWE-79`), in order."""
    out: list[str] = []
    for m in _ID.finditer(_normalise(text or "")):
        ident = f"{m.group(1).upper()}-{int(m.group(2))}" if m.group(1) else m.group(3).upper()
        if ident not in out:
            out.append(ident)
    return Extraction(out, "ids") if out else Extraction()


_CVSS = re.compile(
    r"(CVSS:[34]\.\d/)?((?:AV|AC|PR|UI|S|C|I|A|Au|AT|VC|VI|VA|SC|SI|SA|E|RL|RC|CR|IR|AR|MAV|MAC|MPR|MUI|MS|MC|MI|MA):[A-Z]+(?:/[A-Za-z]+:[A-Z]+){3,})"
)


def extract_cvss(text: str | None) -> Extraction:
    """The last CVSS vector in a reply (v2, v3.x with or without prefix, v4)."""
    hits = list(_CVSS.finditer(_normalise(text or "")))
    if not hits:
        return Extraction()
    prefix, body = hits[-1].group(1) or "", hits[-1].group(2)
    return Extraction([prefix + body], "cvss")


_ANSWER_LINE = re.compile(rf"(?:{_STRONG})\s*(?:is|:|：|是|为)\s*(.+)$", re.I | re.M)


def extract_text(text: str | None) -> Extraction:
    """A short answer: what follows the last `Answer:`/`答案：`, else the whole reply."""
    if not text or not text.strip():
        return Extraction()
    clean = _normalise(text)
    hits = list(_ANSWER_LINE.finditer(clean))
    if hits:
        return Extraction([hits[-1].group(1).strip()], "marker")
    return Extraction([clean], "whole")
