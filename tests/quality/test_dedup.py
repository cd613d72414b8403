"""MinHash-LSH near dedup, exact dedup, clusters and visibility scopes."""

from __future__ import annotations

import numpy as np
import pytest

from qianmo.quality import (
    ExactDedup,
    Member,
    MinHasher,
    NearDedup,
    _minhash,
    cluster_decisions,
    near_clusters,
    ngram_hashes,
    optimal_bands,
    tokens,
)
from qianmo.quality._dedup import shingles
from qianmo.quality._scratch import Scratch
from tests.helpers.quality import BASE_EN, BASE_ZH, NEAR_EN, NEAR_ZH, SIMILAR_EN
from tests.helpers.records import make_record


def _jaccard(a: str, b: str) -> float:
    sa, sb = set(shingles(a, 5, 5).tolist()), set(shingles(b, 5, 5).tolist())
    return len(sa & sb) / len(sa | sb)


def test_tokens_are_words_and_cjk_characters() -> None:
    assert tokens("SQL注入 in PHP") == ["sql", "注", "入", "in", "php"]


def test_signature_estimates_jaccard() -> None:
    hasher = MinHasher(256)
    texts = [BASE_EN, NEAR_EN, SIMILAR_EN]
    sig = hasher.signatures([shingles(t, 5, 5) for t in texts])
    assert sig.shape == (3, 256) and sig.dtype == np.uint32
    for i, j in [(0, 1), (0, 2)]:
        estimate = float((sig[i] == sig[j]).mean())
        assert abs(estimate - _jaccard(texts[i], texts[j])) < 0.12


def test_signatures_do_not_depend_on_batching() -> None:
    hasher = MinHasher()
    docs = [ngram_hashes(tokens(BASE_EN * k), 5) for k in range(1, 40)]
    together = hasher.signatures(docs)
    alone = np.vstack([hasher.signatures([d]) for d in docs])
    assert (together == alone).all()
    assert (hasher.signatures([np.empty(0, dtype=np.uint64)]) == np.iinfo(np.uint32).max).all()


def test_bands_for_threshold() -> None:
    b, r = optimal_bands(0.8, 128)
    assert b * r <= 128 and r > 1


def test_planted_near_duplicates_found_similar_kept() -> None:
    assert _jaccard(BASE_EN, NEAR_EN) >= 0.8 and _jaccard(BASE_EN, SIMILAR_EN) < 0.6
    texts = [BASE_EN, NEAR_EN, SIMILAR_EN, BASE_ZH, NEAR_ZH]
    sig = MinHasher().signatures([shingles(t, 5, 5) for t in texts])
    labels = near_clusters(sig, 0.8).tolist()
    assert labels[0] == labels[1] != labels[2]
    assert labels[3] == labels[4] != labels[0]


def test_banding_a_chunk_at_a_time_finds_the_clusters_of_all_bands_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`near_clusters` reads the signatures a chunk and a band at a time (as from disk); the
    reference bands them all at once, in memory."""
    monkeypatch.setattr(_minhash, "ROWS_READ", 64)  # chunk boundaries inside 300 rows
    rng = np.random.default_rng(11)
    base = rng.integers(0, 2**32 - 1, size=(150, 128), dtype=np.uint32)
    near = base.copy()
    for row, k in zip(near, rng.integers(5, 40, size=150), strict=True):
        row[:k] += 1  # some above 0.8, some below
    sig = np.concatenate([base, near])[rng.permutation(300)]
    sig[[7, 70, 170]] = _minhash.U32_MAX  # empty: never a candidate
    bands, rows = optimal_bands(0.8, 128)
    valid = ~(sig == _minhash.U32_MAX).all(axis=1)
    pairs = _minhash.candidate_pairs(_minhash.band_keys(sig, bands, rows), valid)
    expected = _minhash.components(300, _minhash.verify(sig, pairs, 0.8))
    labels = near_clusters(sig, 0.8)
    assert 0 < len(set(labels.tolist())) < 300
    assert (labels == expected).all()


def test_near_dedup_step_keeps_one_per_scope_and_links_across_scopes() -> None:
    a = {"name": "s", "org": "org-a", "tlp": "CLEAR", "license": "CC-BY-4.0"}
    b = {**a, "org": "org-b", "tlp": "AMBER+STRICT"}
    recs = [
        make_record(content={"text": BASE_EN}, source=a),
        make_record(content={"text": NEAR_EN}, source=a, published_at="2024-01-01"),
        make_record(content={"text": BASE_EN}, source=b),
        make_record(content={"text": SIMILAR_EN}, source=a),
    ]
    for r in recs:
        r.quality.score = 0.9
    step = NearDedup()
    decisions = step.decide([p for _, p in step.summarize(recs)])
    assert set(decisions) == {recs[0].id, recs[1].id, recs[2].id}
    clusters = {d.flags["duplicate"]["cluster"] for d in decisions.values()}
    assert len(clusters) == 1
    # within org-a the most recent of equal scores is kept; org-b's copy is linked, kept
    assert decisions[recs[0].id].reject == "near_dedup:duplicate"
    assert decisions[recs[1].id].reject is None
    assert decisions[recs[2].id].reject is None
    assert decisions[recs[0].id].flags["duplicate"]["representative"] == recs[1].id
    assert decisions[recs[2].id].flags["duplicate"]["representative"] == recs[2].id


def test_best_score_wins_and_existing_cluster_ids_are_kept() -> None:
    members = [
        Member("01A", "o|CLEAR", 0.5, "2025|01A", None),
        Member("01B", "o|CLEAR", 0.9, "2020|01B", "dup-old"),
        Member("01C", "o|CLEAR", 0.9, "2019|01C", None),
    ]
    out = cluster_decisions(members, "exact_dedup")
    assert [out[m].reject for m in ("01A", "01B", "01C")] == [
        "exact_dedup:duplicate",
        None,
        "exact_dedup:duplicate",
    ]
    assert {d.flags["duplicate"]["cluster"] for d in out.values()} == {"dup-old"}


def test_exact_dedup_on_content_hash() -> None:
    recs = [make_record(content={"text": BASE_EN}) for _ in range(3)]
    recs.append(make_record(content={"text": NEAR_EN}))
    step = ExactDedup()
    decisions = step.decide([p for _, p in step.summarize(recs)])
    assert set(decisions) == {r.id for r in recs[:3]}
    assert sum(1 for d in decisions.values() if d.reject) == 2


def _collected(step: ExactDedup | NearDedup, recs: list, dead: set[str], page: int = 7) -> dict:
    """The decisions the driver makes: summaries of pages through the step's collector (on
    disk), some records rejected earlier in the pass."""
    scratch = Scratch()
    try:
        collector = step.collector(scratch)
        for s in range(0, len(recs), page):
            collector.add(step.summarize(recs[s : s + page]))
        out = collector.decide(step, dead)
        collector.close()
        return out
    finally:
        scratch.close()


def test_collectors_on_disk_decide_as_the_summaries_in_memory() -> None:
    rng = np.random.default_rng(3)
    a = {"name": "s", "org": "org-a", "tlp": "CLEAR", "license": "CC-BY-4.0"}
    b = {**a, "org": "org-b", "tlp": "AMBER+STRICT"}
    words = BASE_EN.split()
    recs = []
    for k in range(120):
        base = [BASE_EN, NEAR_EN, SIMILAR_EN, BASE_ZH, NEAR_ZH][k % 5]
        if k % 3 == 0:  # variants: a word or two changed, some near, some not
            toks = base.split() if " " in base else list(base)
            for _ in range(int(rng.integers(1, 4))):
                toks[int(rng.integers(len(toks)))] = str(rng.choice(words))
            base = (" " if " " in base else "").join(toks)
        rec = make_record(content={"text": base}, source=a if k % 4 else b)
        rec.quality.score = float(rng.integers(0, 3)) / 2
        recs.append(rec)
    # no shingles at 5: never a candidate (several, which would otherwise share every bucket)
    recs += [make_record(content={"text": t}) for t in "。！？"]  # (the second is dead)
    dead = {r.id for r in recs[::11]}
    for step in (ExactDedup(), NearDedup()):
        live = [p for rid, p in step.summarize(recs) if rid not in dead]
        expected = step.decide(live)
        assert expected  # the corpus does hold duplicates
        got = _collected(step, recs, dead)
        assert got.keys() == expected.keys()
        for rid, decision in expected.items():
            assert got[rid].reject == decision.reject and got[rid].flags == decision.flags
