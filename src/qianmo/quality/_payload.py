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

_MAGIC = {
    # raw bytes (as decoded text), hex dumps and base64 of each header
    "pe": re.compile(
        r"MZ\x90\x00|4d5a9000|TVqQAAMAAAAEAAAA|This program cannot be run in DOS mode", re.I
    ),
    "elf": re.compile(r"\x7fELF|7f454c46(?:01|02)|f0VMRg[EI]", re.I),
    "macho": re.compile(
        r"\xfe\xed\xfa[\xce\xcf]|\xcf\xfa\xed\xfe|feedfac[ef]|cffaedfe|zvrt7", re.I
    ),
}
_SHELLCODE = re.compile(
    r"(?:\\x[0-9a-fA-F]{2}){24,}"  # "\x31\xc0\x50\x68…" C-string shellcode
    r"|(?:0x[0-9a-fA-F]{2},\s*){24,}"  # {0x31, 0xc0, …} byte arrays
    r"|(?:\\x90){8,}|(?:90){16,}"  # NOP sleds
)


class PayloadOptions(StepOptions):
    base64_min: int = Field(200, ge=16, description="shortest base64 run that counts as a blob")
    hex_min: int = Field(256, ge=16, description="shortest hex run that counts as a blob")


def find_payloads(text: str, base64_min: int = 200, hex_min: int = 256) -> list[str]:
    kinds = [name for name, pattern in _MAGIC.items() if pattern.search(text)]
    if _SHELLCODE.search(text):
        kinds.append("shellcode")
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
