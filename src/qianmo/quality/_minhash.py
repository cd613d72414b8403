"""MinHash signatures and LSH banding in numpy.

Permutations are multiply-add-shift, `((a·x + b) mod 2⁶⁴) >> 32` on uint64: measured here
about 4× faster than `(a·x + b) mod p` at equal accuracy. Shingles are hashed in slices of
8,192 (2–5× faster than very large slices, which spill out of cache). A signature is 128
uint32 values: 512 bytes per document.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import cache

import numpy as np
import xxhash

CHUNK = 8192
_PRIME = np.uint64(0x100000001B3)  # FNV prime: spreads token hashes within an n-gram
_MIX = np.uint64(0x9E3779B97F4A7C15)
U32_MAX = np.uint32(0xFFFFFFFF)


_TOKEN_CACHE: dict[str, int] = {}
_CACHE_MAX = 2_000_000


def token_hashes(toks: Sequence[str]) -> np.ndarray:
    """Stable 64-bit token hashes. Vocabularies repeat, so hashes are cached per process:
    a dict lookup at C speed (`map`) was 4× cheaper here than hashing every token."""
    values = list(map(_TOKEN_CACHE.get, toks))
    if None in values:
        if len(_TOKEN_CACHE) > _CACHE_MAX:
            _TOKEN_CACHE.clear()
        for i, v in enumerate(values):
            if v is None:
                t = toks[i]
                v = _TOKEN_CACHE[t] = xxhash.xxh3_64_intdigest(t.encode())
                values[i] = v
    return np.array(values, dtype=np.uint64)


def ngram_hashes(toks: Sequence[str], n: int) -> np.ndarray:
    """64-bit hashes of the token n-grams (one for a text shorter than n tokens)."""
    th = token_hashes(toks)
    if len(th) == 0:
        return th
    if len(th) < n:
        n = len(th)
    with np.errstate(over="ignore"):
        h = th[: len(th) - n + 1].copy()
        for k in range(1, n):
            h = h * _PRIME + th[k : len(th) - n + 1 + k]
        h ^= h >> np.uint64(29)
        h *= _MIX
    return h


class MinHasher:
    """Signatures of many documents at once: `signatures([shingles, …])` → (docs, perms)."""

    def __init__(self, num_perm: int = 128, seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        self.num_perm = num_perm
        self.a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(
            1
        )
        self.b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)

    def signatures(self, shingles: Sequence[np.ndarray]) -> np.ndarray:
        """uint32 signatures; a document without shingles gets all-max (never a candidate)."""
        sig = np.full((len(shingles), self.num_perm), U32_MAX, dtype=np.uint32)
        present = [i for i, s in enumerate(shingles) if len(s)]
        if not present:
            return sig
        sizes = np.array([len(shingles[i]) for i in present], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        values = np.concatenate([shingles[i] for i in present]) >> np.uint64(32)
        rows = np.array(present)
        buf = np.empty((self.num_perm, CHUNK), dtype=np.uint64)
        a, b = self.a[:, None], self.b[:, None]
        shift = np.uint64(32)
        for s0 in range(0, len(values), CHUNK):
            s1 = min(len(values), s0 + CHUNK)
            out = buf[:, : s1 - s0]
            # (a·x + b) mod 2⁶⁴ in place, one permutation per row so each document's
            # shingles are contiguous for reduceat; the shift is monotonic: after the min
            np.multiply(a, values[None, s0:s1], out=out)
            np.add(out, b, out=out)
            d0 = int(np.searchsorted(starts, s0, side="right")) - 1
            d1 = int(np.searchsorted(starts, s1, side="left"))
            seg = np.maximum(starts[d0:d1], s0) - s0
            mins = (np.minimum.reduceat(out, seg, axis=1) >> shift).astype(np.uint32).T
            sig[rows[d0:d1]] = np.minimum(sig[rows[d0:d1]], mins)
        return sig


@cache
def optimal_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) minimising false positives + false negatives around the threshold."""
    xs = np.linspace(0, 1, 1001)
    best, best_cost = (1, num_perm), float("inf")
    for b in range(1, num_perm + 1):
        r = num_perm // b
        p = 1 - (1 - xs**r) ** b  # probability two sets of similarity x share a bucket
        below, above = xs < threshold, xs >= threshold
        cost = float(np.trapezoid(p[below], xs[below]) + np.trapezoid(1 - p[above], xs[above]))
        if cost < best_cost:
            best, best_cost = (b, r), cost
    return best


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(docs, bands) uint64 keys: a random linear combination of each band's values."""
    mult = np.random.default_rng(7).integers(1, 2**63, size=rows, dtype=np.uint64)
    keys = np.empty((sig.shape[0], bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(bands):
            part = sig[:, j * rows : (j + 1) * rows].astype(np.uint64)
            keys[:, j] = (part * mult).sum(axis=1, dtype=np.uint64)
    return keys


def candidate_pairs(keys: np.ndarray, valid: np.ndarray, max_bucket: int = 64) -> np.ndarray:
    """(pairs, 2) index pairs sharing a bucket in any band (global over all documents).

    A bucket's members are all paired when it is small; a big one (many copies of one text)
    is linked as a chain, which keeps the cluster connected without quadratic pairs.
    """
    found: list[np.ndarray] = []
    ids = np.flatnonzero(valid)
    for j in range(keys.shape[1]):
        col = keys[ids, j]
        order = np.argsort(col, kind="stable")
        sorted_keys = col[order]
        same = sorted_keys[1:] == sorted_keys[:-1]
        if not same.any():
            continue
        # chain links between neighbours in each bucket
        left = ids[order[:-1][same]]
        right = ids[order[1:][same]]
        found.append(np.stack([left, right], axis=1))
        found.extend(_small_bucket_pairs(ids[order], sorted_keys, max_bucket))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(found)
    pairs = np.sort(pairs, axis=1)
    return np.unique(pairs, axis=0)


def _small_bucket_pairs(members: np.ndarray, keys: np.ndarray, limit: int) -> list[np.ndarray]:
    boundaries = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1], [True])))
    out = []
    for s, e in itertools.pairwise(boundaries.tolist()):
        if 3 <= e - s <= limit:
            group = members[s:e]
            i, j = np.triu_indices(len(group), k=1)
            out.append(np.stack([group[i], group[j]], axis=1))
    return out


def verify(sig: np.ndarray, pairs: np.ndarray, threshold: float) -> np.ndarray:
    """The pairs whose signatures agree on at least `threshold` of their positions."""
    if len(pairs) == 0:
        return pairs
    keep = np.zeros(len(pairs), dtype=bool)
    for s in range(0, len(pairs), CHUNK):
        p = pairs[s : s + CHUNK]
        keep[s : s + CHUNK] = (sig[p[:, 0]] == sig[p[:, 1]]).mean(axis=1) >= threshold
    return pairs[keep]


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected-component label (smallest member index) of each of n items."""
    parent = np.arange(n)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in pairs.tolist():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(i) for i in range(n)])
