"""`payload_gate`: live malicious artefacts are flagged for restricted circulation, not dropped.

An injection string in a write-up is teaching material; an executable's bytes, a shellcode
buffer or a long encoded blob is a weapon, and goes only to audiences allowed to hold it.
"""

from __future__ import annotations

import re

from pydantic import Field

from qianmo.quality._fields import texts
from qianmo.quality._step import Step, StepOptions, Verdict, drop_flag, register_step, set_flag
from qianmo.standard import Record

# Headers are matched case-insensitively. `re.I` keeps the regex engine from jumping between
# occurrences of a literal (these patterns took 0.11 ms per 1 kB document), so the text is
# folded once and lower-case patterns run on it: `lower()` after mapping the four characters
# that `re.I` also equates with ASCII letters (İ ı → i, ſ → s, K → k; İ first, whose
# `lower()` is two characters) gives the same matches, position for position.
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
_FOLD_CHARS = re.compile("[\u0130\u0131\u017f\u212a]")  # rare: translate only when present
# Each alternative is its own pattern, led by a literal, for the same reason: one
# alternation tried every position (the shellcode one took 0.17 ms per 1 kB document).
_MAGIC: dict[str, tuple[re.Pattern[str], ...]] = {
    # raw bytes (as decoded text), hex dumps and base64 of each header
    "pe": (
        re.compile(r"mz\x90\x00"),
        re.compile(r"4d5a9000"),
        re.compile(r"tvqqaamaaaaeaaaa"),
        re.compile(r"this program cannot be run in dos mode"),
    ),
    "elf": (re.compile(r"\x7felf"), re.compile(r"7f454c46(?:01|02)"), re.compile(r"f0vmrg[ei]")),
    "macho": (
        re.compile(r"\xfe\xed\xfa[\xee\xef]"),  # þíú then î or ï: Î and Ï folded
        re.compile(r"\xef\xfa\xed\xfe"),  # ïúíþ: Ï folded
        re.compile(r"feedfac[ef]"),
        re.compile(r"cffaedfe"),
        re.compile(r"zvrt7"),
    ),
}
_SHELLCODE = (
    re.compile(r"\\x[0-9a-fA-F]{2}(?:\\x[0-9a-fA-F]{2}){23,}"),  # "\x31\xc0\x50…" C strings
    re.compile(r"0x[0-9a-fA-F]{2},\s*(?:0x[0-9a-fA-F]{2},\s*){23,}"),  # {0x31, 0xc0, …} arrays
    re.compile(r"\\x90(?:\\x90){7,}"),  # NOP sleds
    re.compile(r"9090(?:90){14,}"),
)


def _any(patterns: tuple[re.Pattern[str], ...], text: str) -> bool:
    return any(p.search(text) for p in patterns)


class PayloadOptions(StepOptions):
    base64_min: int = Field(200, ge=16, description="shortest base64 run that counts as a blob")
    hex_min: int = Field(256, ge=16, description="shortest hex run that counts as a blob")


def find_payloads(text: str, base64_min: int = 200, hex_min: int = 256) -> list[str]:
    folded = (text.translate(_FOLD) if _FOLD_CHARS.search(text) else text).lower()
    kinds = [name for name, patterns in _MAGIC.items() if _any(patterns, folded)]
    if _any(_SHELLCODE, text):
        kinds.append("shellcode")
    # a blob has no whitespace: texts without a long enough word skip both scans
    if max(map(len, text.split()), default=0) < min(hex_min, base64_min):
        return kinds
    # hashes are 32–128 hex digits; a blob is far longer
    if re.search(rf"(?<![0-9A-Za-z])[0-9a-fA-F]{{{hex_min},}}(?![0-9A-Za-z])", text):
        kinds.append("hex_blob")
    if re.search(rf"[A-Za-z0-9+/]{{{base64_min},}}={{0,2}}", text):
        kinds.append("base64_blob")
    return kinds


@register_step
class PayloadGate(Step):
    name = "payload_gate"
    Options = PayloadOptions

    def process(self, record: Record) -> Verdict:
        options = self.options
        assert isinstance(options, PayloadOptions)
        kinds: set[str] = set()
        for text in texts(record):
            kinds.update(find_payloads(text, options.base64_min, options.hex_min))
        if not kinds:
            return Verdict(changed=drop_flag(record, "payload"))
        # restricted circulation is the routing; nothing remains to fix, hence resolved
        info = {"resolved": True, "restricted": True, "kinds": sorted(kinds)}
        changed = set_flag(record, "payload", info)
        return Verdict(changed=changed, flags=("payload",), detail={"kinds": sorted(kinds)})
