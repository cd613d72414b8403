from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qianmo.ingest.sources import (
    Rejected,
    SourceError,
    detect,
    import_source,
    read_attack,
    read_capec,
    read_cwe,
    read_nvd,
    read_osv,
    read_sigma,
)
from qianmo.standard import Status
from qianmo.store import Database, RecordFilter, list_records, parents, siblings

FIX = Path(__file__).parent / "fixtures"
ATTACK = FIX / "attack" / "attack-2.1-bundle.json"


def _items(db: Database, template: str):  # type: ignore[no-untyped-def]
    with db.read() as s:
        return [r for r in list_records(s, RecordFilter.of(tag=f"template:{template}"), limit=500)]


def test_attack_21_objects_relations_and_retired() -> None:
    objs = {o.facts["id"]: o for o in read_attack(ATTACK)}
    spear = objs["T1566.001"]
    assert spear.facts["parent"] == "T1566" and spear.facts["tactic_ids"] == ["TA0001"]
    rels = {(r.relation, r.parent) for r in spear.relations}
    assert rels == {("subtechnique-of", "T1566"), ("tactic-of", "TA0001")}
    cmd = objs["T1059"].record
    assert cmd.source.license == "LicenseRef-MITRE-ATTACK" and cmd.domain == "host.malware"
    assert cmd.published_at == datetime(2020, 3, 2, tzinfo=UTC)
    assert "Execution Prevention" in cmd.content["text"] and "(Citation" not in cmd.content["text"]
    assert objs["T1059"].facts["behaviour"].endswith("binaries.")  # first paragraph only
    assert objs["G9001"].facts["uses_techniques"] == ["T1059", "T1566.001"]
    for retired in ("T1064", "T1086"):
        assert objs[retired].withdrawn and objs[retired].record.status is Status.WITHDRAWN
        assert not objs[retired].relations
    assert {"TA0001", "TA0002", "M1038", "M1017"} <= set(objs)


def test_attack_shared_stix20_bundle_and_folder(shared_data: Path) -> None:
    bundle = {
        o.facts["id"]: o
        for o in read_attack(shared_data / "attack" / "enterprise-sample-bundle.json")
    }
    folder = {o.facts["id"]: o for o in read_attack(shared_data / "attack" / "objects")}
    assert set(bundle) == set(folder)
    assert bundle["T1566.001"].facts["parent"] == "T1566"
    assert bundle["T1064"].withdrawn and bundle["T1086"].withdrawn


def test_dangling_reference_refuses_file_and_names_object(tmp_path: Path) -> None:
    data = json.loads(ATTACK.read_text())
    bad = next(o for o in data["objects"] if o["type"] == "relationship")
    bad["target_ref"] = "attack-pattern--6ba7b811-9dad-41d1-80b4-00c04fd430c8"
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SourceError, match=r"bundle\.json.*relationship--.*dangling reference"):
        list(read_attack(path))
    got: list[Rejected] = []
    assert list(read_attack(path, on_reject=got.append)) == []  # nothing partial
    assert "attack-pattern--6ba7b811-9dad-41d1-80b4-00c04fd430c8" in got[0].reason


def test_attack_import_items_and_hierarchy(db: Database) -> None:
    import_source(db, "attack", [ATTACK], actor="t")
    with db.read() as s:
        assert parents(s, "attack", "T1566.001", "subtechnique-of") == ["T1566"]
        assert siblings(s, "attack", "T1059", "tactic-of") == ["T1053", "T1106", "T1203", "T1204"]
    mcq = [i for i in _items(db, "attack:behaviour-mcq") if i.refs.attack[0] == "T1059"]
    assert {i.lang for i in mcq} == {"en", "zh"}
    en = next(i for i in mcq if i.lang == "en")
    choices = en.content["choices"]
    assert choices[en.content["answer"]] == "T1059: Command and Scripting Interpreter"
    wrong = [v.split(":")[0] for k, v in choices.items() if k != en.content["answer"]]
    assert set(wrong) <= {"T1053", "T1106", "T1203", "T1204"}  # same tactic, never right
    tactic = next(i for i in _items(db, "attack:tactic") if i.refs.attack[0] == "T1566.001")
    assert tactic.content["answer"] == "TA0001" and tactic.content["answer_type"] == "ids"
    assert not [i for i in _items(db, "attack:tactic") if i.refs.attack[0] in {"T1064", "T1086"}]


def test_cwe_xml_fields_hierarchy_and_sibling_distractors(db: Database) -> None:
    objs = {o.facts["id"]: o for o in read_cwe(FIX / "cwe.xml")}
    xss = objs["CWE-79"].record
    assert xss.source.license == "LicenseRef-CWE" and xss.domain == "appsec.web"
    assert xss.refs.capec == ["CAPEC-63", "CAPEC-588"] and xss.refs.cwe == ["CWE-79", "CWE-74"]
    assert xss.published_at == datetime(2006, 7, 19, tzinfo=UTC)
    assert xss.valid_as_of == datetime(2024, 2, 29, tzinfo=UTC)
    assert "<script>" in xss.content["text"]  # escaped markup in the XML is text, kept as text
    assert objs["CWE-1999"].withdrawn
    import_source(db, "cwe", [FIX / "cwe.xml"], actor="t")
    with db.read() as s:
        assert parents(s, "cwe", "CWE-79", "ChildOf") == ["CWE-74"]
        assert parents(s, "cwe", "CWE-79", "CanPrecede") == ["CWE-494"]
        assert "CWE-1999" not in siblings(s, "cwe", "CWE-79", "ChildOf")
    mcq = next(
        i for i in _items(db, "cwe:identify-mcq") if i.refs.cwe[0] == "CWE-79" and i.lang == "zh"
    )
    wrong = [
        v.split(":")[0] for k, v in mcq.content["choices"].items() if k != mcq.content["answer"]
    ]
    assert set(wrong) <= {"CWE-89", "CWE-77", "CWE-94", "CWE-91"} and len(set(wrong)) == 3


def test_cve_mcq_uses_cwe_siblings_once_catalogue_is_held(db: Database) -> None:
    import_source(db, "cwe", [FIX / "cwe.xml"], actor="t")
    import_source(db, "cve", [FIX / "cve"], actor="t")
    mcq = next(i for i in _items(db, "cve:cwe-mcq") if i.refs.cve == ["CVE-2030-0001"])
    wrong = [
        v.split(":")[0] for k, v in mcq.content["choices"].items() if k != mcq.content["answer"]
    ]
    assert set(wrong) <= {"CWE-89", "CWE-77", "CWE-94", "CWE-91"}
    assert mcq.content["choices"][mcq.content["answer"]].startswith("CWE-79: Improper")


@pytest.mark.parametrize(
    "payload",
    [
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        "<Weakness_Catalog>&lol2;</Weakness_Catalog>",
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<Weakness_Catalog>&xxe;</Weakness_Catalog>",
    ],
)
def test_xml_bomb_and_external_entity_refused(tmp_path: Path, payload: str) -> None:
    path = tmp_path / "evil.xml"
    path.write_text(payload)
    with pytest.raises(SourceError, match=r"evil\.xml: refused: the document declares entity"):
        list(read_cwe(path))


def test_malformed_xml_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text('<?xml version="1.0"?>\n<Weakness_Catalog>\n<Weaknesses>\n</Weakness_Catalog>')
    with pytest.raises(SourceError, match=r"bad\.xml:4: malformed XML"):
        list(read_cwe(path))


def test_capec_xml_and_stix(db: Database) -> None:
    objs = {o.facts["id"]: o for o in read_capec(FIX / "capec.xml")}
    sqli = objs["CAPEC-66"]
    assert sqli.record.source.license == "CAPEC-tou"
    assert sqli.record.refs.cwe == ["CWE-89", "CWE-1286"] and sqli.facts["parents"] == ["CAPEC-248"]
    assert objs["CAPEC-88"].record.refs.attack == ["T1059"]
    assert objs["CAPEC-999"].withdrawn
    import_source(db, "capec", [FIX / "capec.xml"], actor="t")
    with db.read() as s:
        assert siblings(s, "capec", "CAPEC-66", "ChildOf") == ["CAPEC-88"]
        assert parents(s, "capec", "CAPEC-88", "CanPrecede") == ["CAPEC-66"]
    import_source(db, "cwe", [FIX / "cwe.xml"], actor="t")
    mcq = next(i for i in _items(db, "cwe:capec-mcq") if i.refs.cwe[0] == "CWE-89")
    assert mcq.content["choices"][mcq.content["answer"]] == "CAPEC-66: SQL Injection"


def test_capec_shared_stix(shared_data: Path) -> None:
    objs = {
        o.facts["id"]: o for o in read_capec(shared_data / "capec" / "capec-sample-bundle.json")
    }
    assert objs["CAPEC-66"].facts["parents"] == ["CAPEC-248"]
    assert objs["CAPEC-163"].record.refs.attack[:2] == ["T1534", "T1566.001"]
    assert objs["CAPEC-411"].withdrawn


def test_nvd_osv_sigma_fields(tmp_path: Path) -> None:
    [nvd] = list(read_nvd(FIX / "nvd"))
    assert nvd.record.source.license == "LicenseRef-NVD" and nvd.record.refs.cwe == ["CWE-79"]
    assert nvd.facts["cvss_vector"] == "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"  # Primary
    assert nvd.facts["product"] == "lotus lotus_wiki" and "kev" in nvd.record.tags
    assert "from 3.0.0 before 3.2.1" in nvd.record.content["text"]
    osv = {o.facts["id"]: o for o in read_osv(FIX / "osv")}
    ghsa = osv["GHSA-qm00-0000-0001"]
    assert ghsa.record.source.license == "CC-BY-4.0" and ghsa.facts["fixed"] == ["3.2.1"]
    assert ghsa.record.refs.cve == ["CVE-2030-0001"] and ghsa.facts["package"] == "PyPI/lotus-wiki"
    assert ">= 3.0.0, < 3.2.1" in ghsa.record.content["text"]
    other = osv["EXAMPLE-2030-7"]
    assert other.record.source.license == "LicenseRef-unknown" and other.withdrawn
    bad: list[Rejected] = []
    sigma = {o.facts["rule_id"][-1]: o for o in read_sigma(FIX / "sigma", on_reject=bad.append)}
    rule = sigma["1"].record
    assert rule.source.license == "DRL-1.1" and rule.refs.attack == ["T1059.004", "TA0002"]
    assert rule.refs.cve == ["CVE-2030-0001"] and rule.published_at == datetime(
        2030, 2, 11, tzinfo=UTC
    )
    assert "ParentImage|endswith" in rule.content["text"]
    assert sigma["2"].withdrawn and "deprecated" in sigma["2"].record.tags
    assert len(bad) == 1 and "broken.yml" in bad[0].location and "YAML" in bad[0].reason


def test_nvd_legacy_feed_is_unknown_schema(tmp_path: Path) -> None:
    path = tmp_path / "nvdcve-1.1.json"
    path.write_text('{"CVE_data_version": "4.0", "CVE_Items": []}')
    with pytest.raises(SourceError, match="unknown schema version"):
        list(read_nvd(path))


def test_detect_sources() -> None:
    assert detect(ATTACK) == "attack"
    assert detect(FIX / "cwe.xml") == "cwe"
    assert detect(FIX / "capec.xml") == "capec"
    assert detect(FIX / "nvd" / "CVE-2030-0001.json") == "nvd"
    assert detect(FIX / "osv" / "GHSA-qm00-0000-0001.json") == "osv"
    assert detect(FIX / "sigma" / "lotus_webshell.yml") == "sigma"
    assert detect(FIX / "cve" / "CVE-2030-0001.json") == "cve"
    assert detect(FIX / "kev.json") == "kev"


def test_items_for_each_source_family(db: Database) -> None:
    for fmt, path in [("nvd", FIX / "nvd"), ("osv", FIX / "osv"), ("sigma", FIX / "sigma")]:
        import_source(db, fmt, [path], actor="t")
    with db.read() as s:
        items = list_records(s, RecordFilter.of(tag="derived"), limit=1000)
    families = {t.split(":")[1] for i in items for t in i.tags if t.startswith("template:")}
    assert families == {"nvd", "osv", "sigma"}
    level = next(i for i in items if "template:sigma:level-mcq" in i.tags and i.lang == "en")
    assert level.content["choices"][level.content["answer"]] == "high"
    assert len(set(level.content["choices"].values())) == 4
