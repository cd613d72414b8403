"""payload_gate, language and heuristics on crafted zh and en records."""

from __future__ import annotations

import base64
import random

import pytest

from qianmo.quality import Heuristics, Language, PayloadGate, answer_skew, find_payloads
from qianmo.quality._heuristics import _CODE_BLOCK, _PUNCT, _symbols
from qianmo.quality._language import LanguageOptions, detect
from qianmo.quality._step import StepStats
from tests.helpers.records import make_record

ELF = base64.b64encode(b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 2).decode()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"dropper blob: {ELF}", "elf"),
        ("shellcode = " + "\\x31\\xc0\\x50\\x68" * 8, "shellcode"),
        ("stage2 " + "4d5a90000300000004000000ffff0000" * 10, "pe"),
        ("NOP sled " + "\\x90" * 16, "shellcode"),
        ("blob " + "A1b2" * 80, "base64_blob"),
    ],
)
def test_live_artefacts_are_found(text: str, kind: str) -> None:
    assert kind in find_payloads(text)


def test_teaching_payloads_and_hashes_are_not_artefacts() -> None:
    text = (
        "<script>alert(1)</script> ' OR 1=1 -- sha256 "
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert find_payloads(text) == []


def test_gate_flags_for_restricted_circulation_without_dropping() -> None:
    rec = make_record(content={"text": f"Sample: {ELF}"})
    verdict = PayloadGate().run(rec, StepStats("payload_gate"), "r")
    assert verdict.reject is None and verdict.flags == ("payload",)
    assert rec.quality.flags["payload"]["restricted"] is True


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Apache Log4j2 的 JNDI 功能存在远程代码执行漏洞，攻击者可以构造恶意请求。", "zh"),
        ("SQL注入漏洞允许攻击者读取数据库中的敏感信息。", "zh"),
        ("A remote attacker can execute arbitrary code via crafted JNDI lookups.", "en"),
        ("Уязвимость позволяет удалённому злоумышленнику выполнить произвольный код.", "ru"),
        ("The advisory 漏洞公告 says: 攻击者 can exploit the flaw remotely via JNDI.", "mul"),
        # English glosses in brackets after the Chinese terms: Chinese prose (was mul, 0.68)
        (
            "STRIDE模型中的六类威胁分别对应哪些安全属性？仿冒（Spoofing）对应认证；篡改"
            "（Tampering）对应完整性；抵赖（Repudiation）对应不可否认性；信息泄露（Information "
            "disclosure）对应机密性；拒绝服务（Denial of service）对应可用性；权限提升"
            "（Elevation of privilege）对应授权。",
            "zh",
        ),
        # an English sentence with a bracketed aside is still English
        ("Attackers abuse (Tampering with) the 日志 records to hide what they did.", "en"),
    ],
)
def test_language_fills_and_corrects(text: str, lang: str) -> None:
    rec = make_record(content={"text": text}, lang="und" if lang != "zh" else "en")
    assert rec.lang != lang
    Language().run(rec, StepStats("language"), "r")
    assert rec.lang == lang
    assert rec.quality.flags["language"]["confidence"] > 0.5


def test_heuristics_score_and_rejections() -> None:
    step, stats = Heuristics(), StepStats("heuristics")
    good = make_record(content={"text": "Cross-site scripting lets attackers run script " * 3})
    assert step.run(good, stats, "r").reject is None and good.quality.score > 0.5
    cases = {
        "too_short": make_record(content={"text": "tiny"}),
        "repeated_lines": make_record(content={"text": "buy now\n" * 20 + "end of the story here"}),
        "garbage": make_record(content={"text": "%$#@!&*^~|" * 20 + " a few words"}),
        "trivial_answer": make_record("qa", content={"question": "What is XSS?", "answer": "N/A"}),
        "empty_answer": make_record("qa", content={"question": "What is XSS?", "answer": "..."}),
        "broken_mcq:duplicate_choices": make_record(
            "mcq",
            content={
                "question": "Pick",
                "choices": {"A": "SQLi", "B": "sqli", "C": "XSS"},
                "answer": "C",
            },
        ),
    }
    for reason, rec in cases.items():
        assert step.run(rec, stats, "r").reject == reason, reason
        assert rec.quality.score == 0.0
    leak = make_record(
        "qa",
        content={
            "question": "Are 'parameterised queries' the way to stop SQL injection?",
            "answer": "parameterised queries",
        },
    )
    assert step.run(leak, stats, "r").review == "answer_leak"
    mcq_leak = make_record(
        "mcq",
        content={
            "question": "答案：B。Which is XSS?",
            "choices": {"A": "x", "B": "y"},
            "answer": "B",
        },
    )
    assert step.run(mcq_leak, stats, "r").review == "answer_leak"


def test_skewed_answer_letters_flag_the_source() -> None:
    stats = StepStats("heuristics")
    step = Heuristics()
    for n in range(40):
        answer = "A" if n % 10 else "B"
        choices = {"A": f"one {n}", "B": f"two {n}", "C": f"three {n}", "D": f"four {n}"}
        rec = make_record(
            "mcq", content={"question": f"Q {n}?", "choices": choices, "answer": answer}
        )
        assert step.run(rec, stats, "r").reject is None
    flags = answer_skew(dict(stats.tallies))
    assert flags["test"]["answer_skew"]["position"] == 0
    assert (
        answer_skew(
            {
                "answer\tfair\t0": 10,
                "answer\tfair\t1": 10,
                "answer\tfair\t2": 10,
                "answer\tfair\t3": 10,
            }
        )
        == {}
    )


EN_LONG = (
    "A remote attacker can execute arbitrary code on the server by sending a crafted request "
    "to the management interface. The vendor has released a patch; administrators should "
    "upgrade to the fixed version and restrict access to the interface until then. "
) * 2


def test_long_ascii_prose_is_english_without_lingua() -> None:
    rec = make_record(content={"text": EN_LONG}, lang="und")
    Language().run(rec, StepStats("language"), "r")
    assert rec.lang == "en" and rec.quality.flags["language"]["method"] == "ascii-rule"


def test_ascii_rule_leaves_accented_text_and_short_text_to_lingua() -> None:
    german = (
        "Ein entfernter Angreifer kann beliebigen Code auf dem Server ausführen, indem er eine "
        "präparierte Anfrage an die Verwaltungsoberfläche sendet. Der Hersteller hat ein Update "
        "veröffentlicht; Administratoren sollten es sofort einspielen und den Zugriff begrenzen."
    )
    assert detect(german, LanguageOptions())[::2] == ("de", "lingua")
    short = "A remote attacker can execute arbitrary code via crafted JNDI lookups."
    assert detect(short, LanguageOptions())[2] == "lingua"


def test_ascii_rule_is_off_when_a_configured_language_writes_plain_ascii() -> None:
    # Dutch and Indonesian are written without accents: ASCII text proves nothing there
    options = LanguageOptions(languages=["en", "nl"])
    assert detect(EN_LONG, options)[2] == "lingua"
    assert detect(EN_LONG, LanguageOptions())[2] == "ascii-rule"


@pytest.mark.parametrize(
    "text",
    [
        "THIS PROGRAM CANNOT BE RUN IN DOS MODE",
        # characters `re.I` equates with ASCII letters: the folded text must match as well
        "THİS PROGRAM CANNOT BE RUN İN DOS MODE",
        "thıs program cannot be run ın doſ mode",
    ],
)
def test_headers_match_case_insensitively(text: str) -> None:
    assert find_payloads(text) == ["pe"]


def test_shellcode_byte_arrays_with_spaces() -> None:
    assert find_payloads("{" + "0x31, " * 24 + "}") == ["shellcode"]


def _symbols_by_character(text: str) -> float:
    # the definition the fast paths of `_symbols` must keep: a loop over every character
    prose = _CODE_BLOCK.sub("", text)
    if len(prose) < 100:
        return 0.0
    odd = sum(1 for c in prose if not (c.isalnum() or c.isspace() or c in _PUNCT))
    return (odd + 20 * prose.count("\ufffd")) / len(prose)


@pytest.mark.parametrize("seed", range(5))
def test_symbol_share_fast_paths_equal_the_character_loop(seed: int) -> None:
    rng = random.Random(seed)
    pieces = ["word ", "x_y", "$", "{}", "-", "，", "漏洞", "é", "\u3000", "\ufffd", "\n", "±"]
    pieces += ["```\n$$$\n```", "(a)", "…", "²", "\t", "#"]
    for _ in range(200):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(20, 80)))
        for t in (text, text.encode("ascii", "ignore").decode()):
            assert _symbols(t) == pytest.approx(_symbols_by_character(t)), t
