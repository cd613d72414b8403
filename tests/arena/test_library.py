from __future__ import annotations

from collections import Counter

from qianmo.arena import (
    ATTACK_TAG,
    BENIGN_TAG,
    CONVERTERS,
    Prompt,
    apply_chain,
    benign_requests,
    categories,
    detect_refusal,
    library_attacks,
)
from qianmo.standard import load_taxonomy

REQUIRED = {
    "direct_injection", "indirect_injection", "roleplay", "encoding", "language_switch",
    "payload_splitting", "many_shot", "system_prompt_extraction", "secret_exfiltration",
    "intrusion_help", "malware_help", "phishing",
}  # fmt: skip


def test_library_has_100_attacks_in_both_languages_in_every_category() -> None:
    attacks = library_attacks()
    assert len(attacks) >= 100
    assert set(categories()) == REQUIRED
    by = Counter((a.content["category"], a.lang) for a in attacks)
    for cat in REQUIRED:
        assert by[(cat, "en")] >= 3 and by[(cat, "zh")] >= 3, cat
    taxonomy = load_taxonomy()
    for a in attacks:
        assert a.kind.value == "redteam" and a.domain is not None and a.domain in taxonomy
        assert a.domain.startswith("aisec.")
        assert ATTACK_TAG in a.tags and any(t.startswith("technique:") for t in a.tags)
        assert a.content["variant"] in {"secret", "marker"}
        if a.content["variant"] == "marker":
            assert "{canary}" in " ".join(a.content["turns"]) + a.content.get(
                "injected_context", ""
            )
    assert len({a.source.original_id for a in attacks}) == len(attacks)
    assert any(a.content.get("injected_context") for a in attacks)
    assert any(len(a.content["turns"]) > 1 for a in attacks)


def test_benign_set_has_200_requests_in_both_languages_none_phrased_as_refusals() -> None:
    benign = benign_requests()
    assert len(benign) >= 200
    langs = Counter(b.lang for b in benign)
    assert langs["en"] >= 100 and langs["zh"] >= 100
    assert all(BENIGN_TAG in b.tags and b.content["category"] == "benign" for b in benign)
    assert len({b.content_hash for b in benign}) == len(benign)


def test_every_attack_survives_every_converter() -> None:
    for a in library_attacks()[::7]:
        p = Prompt.of(a).fill("QM-CANARY")
        for name in CONVERTERS:
            out = apply_chain(p, name)
            assert out.turns and out.lineage == (name,)


def test_refusal_detector_does_not_call_benign_requests_refusals() -> None:
    assert not any(detect_refusal(b.content["turns"][0]).refused for b in benign_requests())
