"""The taxonomy and licence data files load and cover what the standard promises."""

from __future__ import annotations

import pytest

from qianmo.standard import json_schema, load_licenses, load_taxonomy

TOP = ["grc", "data", "crypto", "iam", "net", "host", "appsec", "cloud", "arch", "vuln",
       "threat", "ops", "aisec"]  # fmt: skip


def test_taxonomy_domains_and_subdomains() -> None:
    tax = load_taxonomy()
    assert [d.code for d in tax.top_level] == TOP
    for top in tax.top_level:
        assert 4 <= len(top.children) <= 6, top.code
        assert top.label_zh and top.label_en
        for child in top.children:
            assert child.startswith(top.code + ".")
            assert tax.domains[child].label_zh
    assert "vuln.web" in tax and "aisec.prompt_injection" in tax


def test_taxonomy_maps_cwe_and_tactics() -> None:
    tax = load_taxonomy()
    assert tax.for_cwe("CWE-89") is not None
    assert tax.top_of(tax.for_cwe("CWE-787") or "") == "vuln"
    assert tax.for_tactic("TA0006") is not None


REQUIRED = [
    "CC0-1.0",
    "PDDL-1.0",
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-4.0",
    "CDLA-Permissive-2.0",
    "CDLA-Sharing-1.0",
    "ODC-By-1.0",
    "ODbL-1.0",
    "Apache-2.0",
    "MIT",
    "cve-tou",
    "CAPEC-tou",
    "LicenseRef-MITRE-ATTACK",
    "LicenseRef-CWE",
    "LicenseRef-NVD",
    "DRL-1.1",
    "LicenseRef-proprietary",
    "LicenseRef-unknown",
]


@pytest.mark.parametrize("license_id", REQUIRED)
def test_required_licences_present(license_id: str) -> None:
    lic = load_licenses().get(license_id)
    assert lic.id == license_id


def test_licence_properties() -> None:
    table = load_licenses()
    assert not table.get("CC-BY-NC-4.0").commercial
    assert table.get("CC-BY-SA-4.0").share_alike
    assert table.get("CC-BY-ND-4.0").no_derivatives
    assert table.get("LicenseRef-MITRE-ATTACK").commercial
    assert "NVD" in table.get("LicenseRef-NVD").notice


def test_unlisted_license_ref_is_most_restrictive() -> None:
    table = load_licenses()
    terms = table.terms("LicenseRef-someone-elses")
    assert terms.unknown and not terms.commercial
    assert terms.rank == max(lic.rank for lic in table.by_id.values())


def test_expressions_combine() -> None:
    table = load_licenses()
    both = table.terms("CC-BY-4.0 AND CC-BY-NC-4.0")
    assert not both.commercial and both.attribution
    either = table.terms("CC-BY-NC-4.0 OR MIT")
    assert either.commercial
    assert table.normalize("cc-by-4.0 and capec-tou") == "CC-BY-4.0 AND CAPEC-tou"
    with pytest.raises(ValueError, match="unknown licence"):
        table.normalize("GPL-9.0")


def test_json_schema_covers_every_kind() -> None:
    schema = json_schema()
    assert len(schema["allOf"]) == 8
    assert "MCQContent" in schema["$defs"] and "RedteamContent" in schema["$defs"]
