"""Near dedup: qianmo's numpy MinHash-LSH against datasketch on the same corpus and shingles.

20,000 mixed zh/en documents: originals, planted near duplicates (a few words or characters
changed) and hard negatives (siblings sharing 60–88 % of a document's text, true Jaccard
below 0.8). Both sides tokenise, shingle, hash, band, query and verify candidates; the
script prints end-to-end docs/s on CPU time (the machine is shared), the ratios, recall on
pairs with true Jaccard ≥ 0.8, precision after verification, and signature bytes per
document.

    pip install -e ".[bench]"; python bench/dedup_bench.py [--docs 20000]
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from qianmo.quality import MinHasher, tokens
from qianmo.quality._minhash import (
    band_keys,
    candidate_pairs,
    exact_jaccard,
    ngram_hashes_of_tokens,
    optimal_bands,
    verify,
)
from qianmo.quality._tokenhash import token_hashes_of_texts

THRESHOLD, PERMS, N = 0.8, 128, 5
Pair = tuple[int, int]


def make_corpus(total: int, seed: int = 3) -> tuple[list[str], list[Pair], list[Pair]]:
    """(documents, planted near-duplicate pairs, hard-negative pairs)."""
    rng = np.random.default_rng(seed)
    syllables = ["ka", "to", "ri", "sen", "mo", "lu", "pa", "ex", "ver", "on", "dis", "cy"]
    vocab = [
        "".join(rng.choice(syllables, size=rng.integers(1, 4))) + str(i % 97) for i in range(20000)
    ]
    hanzi = [chr(0x4E00 + int(i)) for i in rng.choice(20000, size=3500, replace=False)]

    def sample(zh: bool, n: int) -> list[str]:
        pool = hanzi if zh else vocab
        idx = np.minimum(rng.zipf(1.3, size=n) - 1, len(pool) - 1)
        return [pool[i] for i in idx]

    def join(toks: list[str], zh: bool) -> str:
        return ("" if zh else " ").join(toks)

    originals = int(total * 0.7)
    docs: list[list[str]] = []
    is_zh: list[bool] = []
    for i in range(originals):
        zh = i % 2 == 1
        docs.append(sample(zh, int(rng.integers(150, 300)) * (2 if zh else 1)))
        is_zh.append(zh)
    near: list[Pair] = []
    hard: list[Pair] = []
    while len(docs) < total:
        base = int(rng.integers(0, originals))
        toks = list(docs[base])
        if len(near) <= len(hard):  # a near duplicate: a few tokens changed
            for _ in range(max(1, len(toks) // 150)):
                toks[int(rng.integers(0, len(toks)))] = sample(is_zh[base], 1)[0]
            near.append((base, len(docs)))
        else:  # a sibling: a contiguous 12–40 % rewritten, sharing 60–88 % of the text
            span = int(len(toks) * rng.uniform(0.12, 0.40))
            start = int(rng.integers(0, len(toks) - span))
            toks[start : start + span] = sample(is_zh[base], span)
            hard.append((base, len(docs)))
        docs.append(toks)
        is_zh.append(is_zh[base])
    return [join(t, z) for t, z in zip(docs, is_zh, strict=True)], near, hard


def shingle_strings(text: str) -> list[str]:
    # the shingles qianmo hashes: 5-grams of words, or of characters for Chinese
    toks = tokens(text)
    n = min(N, len(toks)) or 1
    return [" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)]


def ours(docs: list[str]) -> tuple[set[Pair], float, int]:
    hasher = MinHasher(PERMS)
    bands, rows = optimal_bands(THRESHOLD, PERMS)
    start = time.process_time()
    sigs = []
    for s in range(0, len(docs), 1000):
        part = docs[s : s + 1000]
        sigs.append(hasher.signatures(ngram_hashes_of_tokens(token_hashes_of_texts(part), N)))
    sig = np.vstack(sigs)
    valid = ~(sig == np.iinfo(np.uint32).max).all(axis=1)

    def exact(pairs: np.ndarray) -> np.ndarray:
        # borderline pairs are measured on their shingles, re-made from the documents (the
        # pipeline re-reads those records from the store)
        return exact_jaccard(
            pairs,
            lambda ids: ngram_hashes_of_tokens(token_hashes_of_texts([docs[i] for i in ids]), N),
        )

    pairs = verify(sig, candidate_pairs(band_keys(sig, bands, rows), valid), THRESHOLD, exact)
    seconds = time.process_time() - start
    return {(int(a), int(b)) for a, b in pairs}, seconds, sig.nbytes // len(docs)


def theirs(docs: list[str], batch: bool) -> tuple[set[Pair], float, int]:
    from datasketch import MinHash, MinHashLSH

    gc.collect()
    start = time.process_time()
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=PERMS)
    hashes = []
    for i, d in enumerate(docs):
        m = MinHash(num_perm=PERMS)
        if batch:
            m.update_batch([s.encode("utf8") for s in shingle_strings(d)])
        else:
            for s in shingle_strings(d):
                m.update(s.encode("utf8"))
        lsh.insert(i, m)
        hashes.append(m)
    found: set[Pair] = set()
    for i, m in enumerate(hashes):
        for j in lsh.query(m):
            if j != i and m.jaccard(hashes[j]) >= THRESHOLD:
                found.add((min(i, j), max(i, j)))
    seconds = time.process_time() - start
    return found, seconds, _minhash_bytes(docs[:2000])


def _minhash_bytes(docs: list[str]) -> int:
    """Python memory held per document by datasketch's MinHash objects (tracemalloc, which
    slows Python down, so it runs apart from the timed pass)."""
    from datasketch import MinHash

    gc.collect()
    tracemalloc.start()
    kept = []
    for d in docs:
        m = MinHash(num_perm=PERMS)
        m.update_batch([s.encode("utf8") for s in shingle_strings(d)])
        kept.append(m)
    traced, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return traced // len(kept)


def true_jaccard(docs: list[str]) -> Callable[[Pair], float]:
    cache: dict[int, set[str]] = {}

    def shingles(i: int) -> set[str]:
        if i not in cache:
            cache[i] = set(shingle_strings(docs[i]))
        return cache[i]

    def jac(p: Pair) -> float:
        a, b = shingles(p[0]), shingles(p[1])
        return len(a & b) / len(a | b) if a | b else 0.0

    return jac


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=20000)
    args = parser.parse_args()
    docs, near, hard = make_corpus(args.docs)
    jac = true_jaccard(docs)
    hard_j = [jac(p) for p in hard]
    print(
        f"corpus: {len(docs)} docs, {len(near)} planted near duplicates, {len(hard)} hard "
        f"negatives (true Jaccard {min(hard_j):.2f}–{max(hard_j):.2f})"
    )
    results = {
        "qianmo": ours(docs),
        "datasketch": theirs(docs, batch=False),
        "datasketch update_batch": theirs(docs, batch=True),
    }
    found = set().union(*(r[0] for r in results.values()))
    truth = {p for p in {*near, *hard, *found} if jac(tuple(sorted(p))) >= THRESHOLD}
    truth = {tuple(sorted(p)) for p in truth}
    base = len(docs) / results["datasketch"][1]
    print(f"{'':26}{'docs/s':>9}{'ratio':>8}{'recall':>8}{'precision':>10}{'sig B/doc':>10}")
    for name, (pairs, seconds, per_doc) in results.items():
        rate = len(docs) / seconds
        recall = len(pairs & truth) / len(truth) if truth else 1.0
        precision = len(pairs & truth) / len(pairs) if pairs else 1.0
        print(f"{name:26}{rate:9.0f}{rate / base:8.2f}{recall:8.3f}{precision:10.3f}{per_doc:10d}")
    ours_s, batch_s = results["qianmo"][1], results["datasketch update_batch"][1]
    print(f"qianmo against datasketch update_batch: {batch_s / ours_s:.2f}× (CPU time)")
    print(
        f"true pairs (Jaccard ≥ {THRESHOLD}): {len(truth)}; hard negatives reported as "
        f"duplicates: qianmo {len(results['qianmo'][0] & set(hard))}, "
        f"datasketch {len(results['datasketch'][0] & set(hard))}"
    )


if __name__ == "__main__":
    main()
