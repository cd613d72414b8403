"""pii: typed placeholders; ID checksums and Luhn verified; indicators are not personal data."""

from __future__ import annotations

import pytest

from qianmo.quality import PII, id_card_valid, luhn_valid, redact_pii
from qianmo.quality._pii import PIIOptions
from qianmo.quality._step import StepStats
from qianmo.standard import PersonalInfo
from tests.helpers.records import make_record

VALID_ID = "11010519491231002X"
INVALID_ID = "110105194912310021"  # checksum wrong
VISA = "4111111111111111"


def test_id_card_checksum() -> None:
    assert id_card_valid(VALID_ID)
    assert id_card_valid("440524188001010014") is False  # implausible century
    assert not id_card_valid(INVALID_ID)


def test_luhn() -> None:
    assert luhn_valid(VISA)
    assert not luhn_valid("4111111111111112")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"身份证{VALID_ID}已登记", "身份证<PII:ID_CARD>已登记"),
        (f"银行卡{VISA}被盗刷", "银行卡<PII:BANK_CARD>被盗刷"),
        ("邮箱a@b.com已泄露", "邮箱<PII:EMAIL>已泄露"),
        ("手机13812345678联系", "手机<PII:PHONE>联系"),
        ("call +86 138 1234 5678 now", "call <PII:PHONE> now"),
        ("座机010-12345678。", "座机<PII:PHONE>。"),
        ("US office +1 415 555 0100.", "US office <PII:PHONE>."),
        ("护照号码：E12345678，", "护照号码：<PII:PASSPORT>，"),
        ("Passport No. G12345678 expired", "Passport No. <PII:PASSPORT> expired"),
        ("card 4111 1111 1111 1111 leaked", "card <PII:BANK_CARD> leaked"),
    ],
)
def test_redaction_including_digits_touching_chinese(text: str, expected: str) -> None:
    assert redact_pii(text)[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        f"ID {INVALID_ID} is not a real ID",
        "card 4111111111111112 fails Luhn",
        "C2 at 203.0.113.7 and evil-domain.example, http://198.51.100.2/x.php",
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "md5 d41d8cd98f00b204e9800998ecf8427e and CVE-2021-44228, CWE-79, T1059.001",
        r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run\evil = C:\Users\x\a.exe",
        "timestamp 1700000000123 and build 20240101120000",
    ],
)
def test_indicators_and_invalid_numbers_stay(text: str) -> None:
    assert redact_pii(text) == (text, {})


def test_step_sets_personal_info_and_a_resolved_flag() -> None:
    rec = make_record(content={"text": f"Leaked: 13812345678, {VALID_ID}, x@corp.example"})
    step, stats = PII(), StepStats("pii")
    verdict = step.run(rec, stats, "r")
    assert verdict.changed and verdict.review is None
    assert rec.personal_info is PersonalInfo.DEIDENTIFIED
    assert rec.quality.flags["pii"] == {
        "resolved": True,
        "found": {"EMAIL": 1, "ID_CARD": 1, "PHONE": 1},
    }
    assert "13812345678" not in rec.text()
    assert not step.run(rec, stats, "r").changed  # second pass: nothing left to do
    clean = make_record(content={"text": "No people here, only 8.8.8.8."})
    step.run(clean, stats, "r")
    assert clean.personal_info is PersonalInfo.NONE and "pii" not in clean.quality.flags


def test_redaction_off_leaves_an_unresolved_flag_and_sends_to_review() -> None:
    rec = make_record(content={"text": "Call 13812345678 about the breach."})
    verdict = PII(PIIOptions(redact=False)).run(rec, StepStats("pii"), "r")
    assert verdict.review == "pii:unresolved"
    assert rec.quality.unresolved() == ["pii"]
    assert rec.personal_info is PersonalInfo.PERSONAL and "13812345678" in rec.text()


def test_a_source_may_keep_a_kind() -> None:
    opts = PIIOptions(keep_by_source={"test": ["email"]})
    rec = make_record(content={"text": "Report to security@vendor.example please."})
    PII(opts).run(rec, StepStats("pii"), "r")
    assert "security@vendor.example" in rec.text()


@pytest.mark.parametrize("word", ["passport no.", "PASSPORT No.", "Paſsport #", "护照号码"])
def test_the_passport_gate_passes_whatever_the_case_insensitive_pattern_matches(
    word: str,
) -> None:
    text, counts = redact_pii(f"{word} AB1234567")
    assert text.endswith("<PII:PASSPORT>") and counts == {"PASSPORT": 1}, text
