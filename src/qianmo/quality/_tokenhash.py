"""Token hashes straight from the text, vectorised: the same tokens as `tokens`, no strings.

Tokenising with a regex and hashing each token string took two thirds of near dedup's time
(a Python string per token, then a dictionary lookup or a hash call per token). Here the
lower-cased text becomes an array of code points; a table says which are word characters
(`\\w` minus CJK) and which are CJK characters (each its own token), and each token's hash
is a sum over its characters, computed for all tokens of a batch of texts at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import numpy as np

from qianmo.quality._text import CJK_CLASS, tokens

_WORD, _CJK = 1, 2
_POSITIONS = 4096  # position keys; a longer token's tail shares the last (a blob, not prose)
_SEP = "\n"  # joins the texts of a batch: never part of a token
CHUNK_CHARS = 1 << 16
SCANNED = 0x40000  # code points classified by the regex


@cache
def _classes() -> np.ndarray:
    """Class of every code point: 0 (no token), word character, CJK character."""
    # Only planes 0-3 hold letters and digits (4-13 are unassigned, 14 has tags and variation
    # selectors, 15-16 private use), so the regex scans those: 0.34 → 0.08 s at first use.
    # tests/quality/test_tokenhash.py checks the rest has no word character.
    every = "".join(map(chr, range(SCANNED)))
    table = np.zeros(0x110000, dtype=np.uint8)
    # a substituted NUL marks the class; NUL itself is neither class
    for cls, pattern in ((_WORD, rf"[^\W{CJK_CLASS}]"), (_CJK, rf"[{CJK_CLASS}]")):
        marked = re.sub(pattern, "\0", every)
        codes = np.frombuffer(marked.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        table[1:SCANNED][codes[1:] == 0] = cls
    return table


@cache
def _keys() -> tuple[np.ndarray, np.uint64]:
    rng = np.random.default_rng(0x51A1)
    keys = rng.integers(1, 2**63, size=_POSITIONS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    return keys, np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit reaches every output bit."""
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def token_hashes_of_texts(texts: Sequence[str]) -> list[np.ndarray]:
    """64-bit hashes of each text's tokens (those of `tokens`), in order. Equal tokens hash
    equally in every text and batch."""
    out: list[np.ndarray] = []
    group: list[str] = []
    size = 0
    for text in texts:
        # about 64k characters at a time: the arrays per character (some 40 bytes of them)
        # stay a few MB, where a page of 1,000 documents at once held 50 MB
        if group and size + len(text) > CHUNK_CHARS:
            out.extend(_batch(group))
            group, size = [], 0
        group.append(text)
        size += len(text)
    if group:
        out.extend(_batch(group))
    return out


def _batch(texts: Sequence[str]) -> list[np.ndarray]:
    joined = _SEP.join(texts).lower()
    lengths = [len(t) for t in texts]
    if joined.isascii():
        codes = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    else:
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if sum(lengths) + len(texts) - 1 != len(codes):  # lower() changed a length (İ → i̇)
        return [_batch([t])[0] for t in texts] if len(texts) > 1 else [_slow(texts[0])]
    cls = _classes()[codes]
    inside = cls != 0
    word = cls == _WORD
    # a token starts at a CJK character, and at a word character not after another one
    start = inside.copy()
    start[1:] &= ~(word[1:] & word[:-1])
    pos = np.flatnonzero(inside)
    heads = start[pos]  # over the characters in tokens, which run contiguously per token
    at = np.arange(len(pos))
    offset = at - np.maximum.accumulate(np.where(heads, at, 0))  # position in its token
    first = np.flatnonzero(heads)
    keys, odd = _keys()
    with np.errstate(over="ignore"):
        contrib = codes[pos].astype(np.uint64) + odd
        contrib *= keys[np.minimum(offset, _POSITIONS - 1)]
        sums = np.add.reduceat(contrib, first) if len(first) else contrib
        sizes = np.diff(np.append(first, len(pos))).astype(np.uint64)
        hashes = _mix(sums + sizes * odd)
    # split by text: text k spans [bounds[k], bounds[k + 1]) of the joined string
    bounds = np.cumsum([0] + [n + 1 for n in lengths])
    cuts = np.searchsorted(pos[first], bounds)
    return [hashes[cuts[k] : cuts[k + 1]] for k in range(len(texts))]


def _slow(text: str) -> np.ndarray:
    """A text whose lower-casing changes its length: per token (rare)."""
    return np.array([_batch([t])[0][0] for t in tokens(text)], dtype=np.uint64)
