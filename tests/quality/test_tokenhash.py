"""Vectorised token hashes: the tokens of `tokens`, hashed the same wherever they occur."""

from __future__ import annotations

import random

from qianmo.quality._minhash import ngram_hashes_of_tokens, token_ngrams
from qianmo.quality._text import _TOKEN, tokens
from qianmo.quality._tokenhash import CHUNK_CHARS, SCANNED, token_hashes_of_texts

PIECES = [
    "SQL",
    "注入",
    "in",
    "PHP",
    " ",
    ",",
    "_x",
    "1",
    "é",
    "İ",
    "ß",
    "\n",
    "漏洞",
    "カ",
    "한",
    "𝐀",
]


def _texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 20))) for _ in range(n)]


def test_same_tokens_as_the_regex_and_one_hash_per_token() -> None:
    seen: dict[str, int] = {}
    texts = _texts(2000)
    for text, hashes in zip(texts, token_hashes_of_texts(texts), strict=True):
        toks = tokens(text)
        assert len(hashes) == len(toks), text
        for tok, h in zip(toks, hashes.tolist(), strict=True):
            assert seen.setdefault(tok, h) == h, tok
    assert len(set(seen.values())) == len(seen)  # distinct tokens, distinct hashes


def test_hashes_do_not_depend_on_batching() -> None:
    texts = [*_texts(300), "x" * CHUNK_CHARS, "", "İstanbul SQL注入"]
    together = token_hashes_of_texts(texts)
    for text, hashes in zip(texts, together, strict=True):
        assert token_hashes_of_texts([text])[0].tolist() == hashes.tolist()
    assert token_hashes_of_texts(["SQL注入 in PHP"])[0][0] == token_hashes_of_texts(["sql"])[0][0]


def test_batched_ngrams_equal_each_documents_own() -> None:
    # the one-pass batch must not take n-grams across documents, nor differ for short ones
    texts = [*_texts(200), "", "one", "one two three four five six"]
    docs = token_hashes_of_texts(texts)
    for n in (1, 3, 5):
        batched = ngram_hashes_of_tokens(docs, n)
        assert [h.tolist() for h in batched] == [token_ngrams(th, n).tolist() for th in docs]


def test_the_ascii_shortcut_of_tokens_equals_the_regex() -> None:
    rng = random.Random(3)
    every = "".join(map(chr, range(128)))
    texts = [every, *("".join(rng.choice(every) for _ in range(40)) for _ in range(2000))]
    for text in texts:
        assert tokens(text) == _TOKEN.findall(text.lower()), repr(text)


def test_no_token_character_lies_beyond_the_scanned_planes() -> None:
    # the code-point table classifies only planes 0-3 with the regex; the rest must hold none
    beyond = "".join(map(chr, range(SCANNED, 0x110000)))
    assert _TOKEN.search(beyond) is None
    assert tokens("𠀀𰀀 word") == ["𠀀𰀀", "word"]  # planes 2 and 3 (CJK extensions B and G)
    assert [len(h) for h in token_hashes_of_texts(["𠀀𰀀 word"])] == [2]
