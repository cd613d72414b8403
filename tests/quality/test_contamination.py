"""Contamination's n-grams: word n-grams for most text, character n-grams for Chinese."""

from __future__ import annotations

from qianmo.quality._contamination import grams


def test_grams_take_words_or_characters_by_each_text_of_a_batch() -> None:
    # with the two lengths apart (both are 13 by default, so runs cannot tell them apart)
    en, zh = "one two three four five six seven", "攻击者利用反序列化漏洞执行任意命令"
    got = grams([en, zh, "", "short"], word_ngram=3, char_ngram=5)
    assert [len(g) for g in got] == [7 - 3 + 1, len(zh) - 5 + 1, 0, 1]
