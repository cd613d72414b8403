"""Converters: small, composable rewrites of an attack, found by name in a registry.

Each returns a new `Prompt` whose `parent` is its input, so any output can be traced back
through every converter to the library attack. `a+b` applies `a`, then `b`.
"""

from __future__ import annotations

import base64
import codecs
import random
from collections.abc import Callable
from dataclasses import dataclass

from qianmo.arena._data import load_data
from qianmo.arena._prompt import Prompt
from qianmo.errors import QianmoError

ZERO_WIDTH = "\u200b"
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
# Latin letters and the Cyrillic letters that look the same in most fonts.
_HOMOGLYPHS = {
    "a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у",
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М",
    "O": "О", "P": "Р", "T": "Т", "X": "Х",
}  # fmt: skip
_UNHOMOGLYPHS = {v: k for k, v in _HOMOGLYPHS.items()}
# str.translate tables: the leak judge folds every reply through these, and a per-character
# generator cost ~0.5 ms per reply there (2,000-attempt campaign).
_LEET_ENCODE = str.maketrans({**_LEET, **{k.upper(): v for k, v in _LEET.items()}})
_LEET_DECODE = str.maketrans({v: k for k, v in _LEET.items()})
_HOMOGLYPH_ENCODE = str.maketrans(_HOMOGLYPHS)
_HOMOGLYPH_DECODE = str.maketrans(_UNHOMOGLYPHS)

TextCodec = Callable[[str], str]


@dataclass(frozen=True)
class Encoding:
    """A reversible text transform, with its inverse for round-trip checks."""

    encode: TextCodec
    decode: TextCodec


ENCODINGS: dict[str, Encoding] = {
    "none": Encoding(lambda s: s, lambda s: s),
    "base64": Encoding(
        lambda s: base64.b64encode(s.encode()).decode(),
        lambda s: base64.b64decode(s.encode()).decode(),
    ),
    "hex": Encoding(lambda s: s.encode().hex(), lambda s: bytes.fromhex(s).decode()),
    "rot13": Encoding(lambda s: codecs.encode(s, "rot13"), lambda s: codecs.decode(s, "rot13")),
    "leetspeak": Encoding(
        lambda s: s.translate(_LEET_ENCODE),
        # lossy for digits already in the text; exact for lower-case text without digits
        lambda s: s.translate(_LEET_DECODE),
    ),
    "homoglyph": Encoding(
        lambda s: s.translate(_HOMOGLYPH_ENCODE),
        lambda s: s.translate(_HOMOGLYPH_DECODE),
    ),
    "zero_width": Encoding(lambda s: ZERO_WIDTH.join(s), lambda s: s.replace(ZERO_WIDTH, "")),
}


def encode_text(name: str, text: str) -> str:
    if name not in ENCODINGS:
        raise QianmoError(f"unknown encoding {name!r} (one of: {', '.join(ENCODINGS)})")
    return ENCODINGS[name].encode(text)


Converter = Callable[[Prompt], Prompt]
CONVERTERS: dict[str, Converter] = {}


def converter(name: str) -> Callable[[Converter], Converter]:
    """Register a converter under `name`."""

    def wrap(fn: Converter) -> Converter:
        CONVERTERS[name] = fn
        return fn

    return wrap


def _template(key: str, lang: str) -> str:
    entry = load_data("templates.yaml")
    for part in key.split("."):
        entry = entry[part]
    return str(entry.get(lang) or entry["en"])


def _frame(text: str, key: str, lang: str) -> str:
    return _template(key, lang).replace("{text}", text)


def _encoding_converter(name: str, framed: bool) -> Converter:
    def convert(prompt: Prompt) -> Prompt:
        enc = ENCODINGS[name].encode
        turns = []
        for t in prompt.turns:
            text = enc(t)
            turns.append(_frame(text, f"frames.{name}", prompt.lang) if framed else text)
        return prompt.derive(name, tuple(turns))

    return convert


for _name, _framed in [
    ("base64", True),
    ("hex", True),
    ("rot13", True),
    ("leetspeak", False),
    ("homoglyph", False),
    ("zero_width", False),
]:
    CONVERTERS[_name] = _encoding_converter(_name, _framed)


def _wrap_last(prompt: Prompt, name: str, key: str, lang: str) -> Prompt:
    last = _frame(prompt.turns[-1], key, lang)
    return prompt.derive(name, (*prompt.turns[:-1], last))


@converter("language_switch")
def language_switch(prompt: Prompt) -> Prompt:
    """Frame the request in the other language and ask for the answer in it."""
    return _wrap_last(prompt, "language_switch", "language_switch", prompt.lang)


@converter("roleplay")
def roleplay(prompt: Prompt) -> Prompt:
    return _wrap_last(prompt, "roleplay", "roleplay", prompt.lang)


@converter("hypothetical")
def hypothetical(prompt: Prompt) -> Prompt:
    return _wrap_last(prompt, "hypothetical", "hypothetical", prompt.lang)


def split_text(text: str, parts: int) -> list[str]:
    """`text` cut into `parts` pieces of near-equal length that join back to it."""
    parts = max(1, min(parts, len(text)))
    size, extra = divmod(len(text), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(text[start:end])
        start = end
    return out


@converter("split")
def split(prompt: Prompt, parts: int = 3) -> Prompt:
    """Spread the last turn over several turns, then ask for them to be joined."""
    pieces = split_text(prompt.turns[-1], parts)
    lang = prompt.lang
    part, final = _template("split.part", lang), _template("split.final", lang)
    total = str(len(pieces))
    turns = [
        part.replace("{index}", str(i)).replace("{total}", total).replace("{text}", piece)
        for i, piece in enumerate(pieces, start=1)
    ]
    turns.append(final.replace("{total}", total))
    return prompt.derive("split", (*prompt.turns[:-1], *turns))


def parse_chain(spec: str) -> list[str]:
    """`base64+roleplay` → ["base64", "roleplay"]; `none` or "" → []."""
    names = [n.strip() for n in spec.split("+") if n.strip() and n.strip() != "none"]
    for n in names:
        if n not in CONVERTERS:
            raise QianmoError(
                f"unknown converter {n!r} (one of: {', '.join(sorted(CONVERTERS))})",
                field="converters",
            )
    return names


def apply_chain(prompt: Prompt, spec: str) -> Prompt:
    for name in parse_chain(spec):
        prompt = CONVERTERS[name](prompt)
    return prompt


def random_chain(rng: random.Random, length: int = 2) -> str:
    """A random composition, for fuzzing a target with converter stacks."""
    return "+".join(rng.sample(sorted(CONVERTERS), k=length))
