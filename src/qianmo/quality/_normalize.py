"""`normalize`: NFC, control characters and whitespace — never touching code or payloads."""

from __future__ import annotations

import re
import unicodedata

from qianmo.quality._fields import map_text
from qianmo.quality._step import Step, Verdict, register_step
from qianmo.quality._text import CJK_CLASS
from qianmo.standard import Record

# Fenced code blocks and inline code spans stay byte-exact.
_CODE = re.compile(r"(```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|`[^`\n]+`)", re.S)
# C0/C1 controls except tab and newline, plus BOM; zero-width joiners are kept (emoji, Indic)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff]")
# A line that looks like code or a payload keeps its inner spacing.
_CODE_LINE = re.compile(r"[<>{};$|`\\]|^\s{4,}\S|\b(?:SELECT|UNION|OR|AND)\b\s+\S+\s*=", re.I)
_SPACES = re.compile(r"[ \t\u00a0\u3000]{2,}")
_BLANKS = re.compile(r"\n{3,}")
# Half-width punctuation between CJK characters is written full-width in Chinese prose.
_HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}
_HALF = re.escape("".join(_HALF_TO_FULL))
_CJK_PUNCT = re.compile(rf"(?<=[{CJK_CLASS}])([{_HALF}])(?=[{CJK_CLASS}])")
# Full-width letters and digits (ＡＢＣ１２３) are ASCII in disguise; full-width punctuation
# is not touched (NFKC would turn ，：（） into ASCII, which is why NFKC is never used here).
_FULLWIDTH_ALNUM = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)} | {
    c: c - 0xFEE0 for c in [*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]
}


def _prose(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = text.translate(_FULLWIDTH_ALNUM)
    text = _CJK_PUNCT.sub(lambda m: _HALF_TO_FULL[m.group(1)], text)
    lines = []
    for line in text.split("\n"):
        line = line.rstrip()
        if not _CODE_LINE.search(line):
            line = _SPACES.sub(" ", line)
        lines.append(line)
    return _BLANKS.sub("\n\n", "\n".join(lines))


# Everything `_prose` would change, tested with substring checks and regexes that start with
# a character class (the engine skips ahead on those): most texts are already clean and skip
# the per-line work, which was the step's main cost. One alternation of these tests tried
# every branch at every position and saved little.
_FULLWIDTH = re.compile(f"[{''.join(map(chr, _FULLWIDTH_ALNUM))}]")
_TRAILING = re.compile(r"[^\S\n]\n")  # whitespace `rstrip` would take before a newline
_HALF_PUNCT = re.compile(rf"[{_HALF}](?<=[{CJK_CLASS}][{_HALF}])(?=[{CJK_CLASS}])")


def _clean(text: str) -> bool:
    """True when normalising would return the text unchanged."""
    if not text:
        return True
    if text[0] == "\n" or text[-1].isspace():  # stripped at the ends
        return False
    if "`" in text or "~~~" in text or "\r" in text or "\n\n\n" in text:
        return False
    if "  " in text or "\t" in text or "\xa0" in text or "\u3000" in text:
        return False
    if "\n" in text and _TRAILING.search(text):
        return False
    if text.isascii():
        return _CONTROL.search(text) is None
    return not (
        _CONTROL.search(text)
        or _FULLWIDTH.search(text)
        or _HALF_PUNCT.search(text)
        or not unicodedata.is_normalized("NFC", text)
    )


def normalize_text(text: str) -> str:
    """Normalise prose; fenced and inline code is copied through byte for byte."""
    return text if _clean(text) else _normalize(text)


def _normalize(text: str) -> str:
    """`normalize_text` without the shortcut: what `_clean` must agree with."""
    parts = _CODE.split(text)
    out = [part if i % 2 else _prose(part) for i, part in enumerate(parts)]
    result = "".join(out).strip("\n")
    # a field that was only whitespace or control characters is kept as it was
    return result if result.strip() else text


@register_step
class Normalize(Step):
    name = "normalize"

    def process(self, record: Record) -> Verdict:
        changed = map_text(record, normalize_text, verbatim=True)
        return Verdict(changed=changed)


__all__ = ["Normalize", "normalize_text"]
