from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from qianmo.ingest.sources import Rejected, SourceError, import_source, read_cve, read_kev
from qianmo.standard import Status
from qianmo.store import Database, RecordFilter, RejectedRowRow, get_record, list_records

FIX = Path(__file__).parent / "fixtures"


def _by_original(db: Database, original_id: str):  # type: ignore[no-untyped-def]
    with db.read() as s:
        return [
            r
            for r in list_records(s, RecordFilter(), limit=5000)
            if r.source.original_id == original_id
        ]


def test_cve_fields_field_by_field() -> None:
    objs = {o.record.source.original_id: o for o in read_cve(FIX / "cve")}
    rec = objs["CVE-2030-0001"].record
    assert rec.kind.value == "document" and rec.lang == "en"
    assert rec.source.license == "cve-tou" and rec.source.name == "cve"
    assert rec.refs.cve == ["CVE-2030-0001"] and rec.refs.cwe == ["CWE-79"]
    assert rec.refs.urls == [
        "https://lotus.example/advisories/2030-0001",
        "https://example.org/writeup/lotus-xss",
    ]
    assert rec.published_at == datetime(2030, 1, 10, 8, tzinfo=UTC)
    assert rec.valid_as_of == datetime(2030, 2, 1, 9, 30, tzinfo=UTC)
    assert rec.domain == "appsec.web"  # from CWE-79 in the taxonomy
    text = rec.content["text"]
    assert "Lotus Wiki: 3.0.0 to before 3.2.1 (affected)" in text
    assert "CVSS 4.0 CVSS:4.0/AV:N" in text and "CVSS 2.0 AV:N/AC:M/Au:N/C:N/I:P/A:N" in text
    assert "(MEDIUM)" in text and "Upgrade to Lotus Wiki 3.2.1" in text
    facts = objs["CVE-2030-0001"].facts
    assert facts["cvss_version"] == "4.0" and facts["severity"] == "MEDIUM"
    assert objs["CVE-2030-0003"].facts["cvss_vector"].startswith("CVSS:3.0/")
    assert objs["CVE-2030-0003"].record.domain == "vuln"  # CWE-122 is in no domain's list


def test_rejected_cve_is_withdrawn_without_items() -> None:
    obj = next(o for o in read_cve(FIX / "cve") if o.record.source.original_id == "CVE-2030-0002")
    assert obj.withdrawn and obj.record.status is Status.WITHDRAWN
    assert "Duplicate of CVE-2030-0001" in (obj.record.status_reason or "")


def test_unknown_schema_version_and_bad_json_are_listed(tmp_path: Path) -> None:
    (tmp_path / "CVE-2030-0100.json").write_text(
        '{"dataType": "CVE_RECORD", "dataVersion": "4.0", "cveMetadata": {"cveId": '
        '"CVE-2030-0100"}}',
        encoding="utf-8",
    )
    (tmp_path / "CVE-2030-0101.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "CVE-2030-0001.json").write_bytes((FIX / "cve" / "CVE-2030-0001.json").read_bytes())
    bad: list[Rejected] = []
    objs = list(read_cve(tmp_path, on_reject=bad.append))
    assert [o.record.source.original_id for o in objs] == ["CVE-2030-0001"]
    reasons = sorted(f"{Path(b.location.split(':')[0]).name} {b.reason}" for b in bad)
    assert "unknown CVE schema version '4.0'" in reasons[0] and "CVE-2030-0100" in reasons[0]
    assert "malformed JSON" in reasons[1] and "CVE-2030-0101" in reasons[1]
    with pytest.raises(SourceError, match="CVE-2030-0100"):
        list(read_cve(tmp_path / "CVE-2030-0100.json"))


def test_import_cve_then_kev_attaches_and_creates_minimal(db: Database) -> None:
    first = import_source(db, "cve", [FIX / "cve"], actor="t")
    assert first.counts.added == 3 and first.counts.withdrawn == 1
    assert first.counts.items_added > 0
    kev = import_source(db, "kev", [FIX / "kev.json"], actor="t")
    assert kev.counts.updated == 1 and kev.counts.added == 3
    [lotus] = [r for r in _by_original(db, "CVE-2030-0001")]
    assert lotus.version == 2 and lotus.source.license == "cve-tou"
    assert {"kev", "kev-ransomware:unknown", "kev-added:2030-02-08", "kev-due:2030-02-29"} <= set(
        lotus.tags
    )
    assert "Known exploited (CISA KEV): Lotus Wiki Cross-Site Scripting" in lotus.content["text"]
    [mail] = _by_original(db, "CVE-2030-0009")
    assert mail.source.license == "CC0-1.0" and "kev-ransomware:known" in mail.tags
    assert mail.refs.cwe == ["CWE-78"] and mail.domain == "appsec.code"
    # re-importing the CVE keeps the KEV facts it was given
    (again := import_source(db, "cve", [FIX / "cve"], actor="t"))
    assert again.counts.unchanged == 3 and again.counts.added == 0


def test_kev_items_and_same_vendor_distractors(db: Database) -> None:
    import_source(db, "kev", [FIX / "kev.json"], actor="t")
    with db.read() as s:
        items = [
            r
            for r in list_records(s, RecordFilter.of(kind="mcq"), limit=500)
            if "template:kev:product-mcq" in r.tags
        ]
    assert {i.lang for i in items} == {"en", "zh"}
    lotus = next(i for i in items if i.refs.cve == ["CVE-2030-0009"] and i.lang == "en")
    right = lotus.content["choices"][lotus.content["answer"]]
    assert right == "Lotus Project Lotus Mail"
    others = [v for k, v in lotus.content["choices"].items() if k != lotus.content["answer"]]
    assert "Lotus Project Lotus Wiki" in others and len(set(others)) == len(others) == 3
    with db.read() as s:
        doc = get_record(s, lotus.lineage.root or "")
    assert doc.source.original_id == "CVE-2030-0009" and lotus.lineage.parents == [doc.id]


def test_cve_items_both_languages_with_lineage(db: Database) -> None:
    import_source(db, "cve", [FIX / "cve"], actor="t")
    [doc] = _by_original(db, "CVE-2030-0001")
    with db.read() as s:
        items = [
            r
            for r in list_records(s, RecordFilter(), limit=500)
            if r.lineage.root == doc.id and r.id != doc.id
        ]
    names = {t for i in items for t in i.tags if t.startswith("template:")}
    assert len(names) >= 6
    qa = next(i for i in items if "template:cve:cwe" in i.tags and i.lang == "zh")
    assert qa.content["answer"] == "CWE-79" and qa.content["answer_type"] == "ids"
    assert "CVE-2030-0001" in qa.content["question"] and "属于" in qa.content["question"]
    cvss = next(i for i in items if "template:cve:cvss" in i.tags and i.lang == "en")
    assert cvss.content["answer"].startswith("CVSS:4.0/") and cvss.content["answer_type"] == "cvss"
    mcq = next(i for i in items if "template:cve:cwe-mcq" in i.tags and i.lang == "en")
    choices = mcq.content["choices"]
    assert choices[mcq.content["answer"]] == "CWE-79" and len(set(choices.values())) == 4
    assert all(i.source.license == "cve-tou" and not i.eval_only for i in items)
    rejected = _by_original(db, "CVE-2030-0002")[0]
    with db.read() as s:
        assert not [
            r
            for r in list_records(s, RecordFilter(), limit=500)
            if r.lineage.root == rejected.id and r.id != rejected.id
        ]


def test_bad_file_in_folder_is_listed_rest_imported(db: Database, tmp_path: Path) -> None:
    for f in (FIX / "cve").iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "CVE-2030-0999.json").write_text('{"dataType": "CVE_RECORD"', encoding="utf-8")
    result = import_source(db, "cve", [tmp_path], actor="t")
    assert result.counts.added == 3 and len(result.counts.rejected) == 1
    with db.read() as s:
        rows = s.query(RejectedRowRow).all()
    assert len(rows) == 1 and "CVE-2030-0999.json" in rows[0].location
    assert "malformed JSON" in rows[0].reasons[0]


def test_shared_cve_and_kev(shared_data: Path, db: Database) -> None:
    objs = {o.record.source.original_id: o for o in read_cve(shared_data / "cve")}
    log4j = objs["CVE-2021-44228"]
    assert log4j.record.refs.cwe == ["CWE-502", "CWE-400", "CWE-20"]
    assert log4j.facts["cvss_vector"] == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
    assert log4j.facts["severity"] == "CRITICAL"  # from the CISA ADP container
    assert objs["CVE-2025-4565"].facts["cvss_version"] == "4.0"
    assert objs["CVE-2016-15012"].facts["cvss_version"] == "3.1"
    assert objs["CVE-2023-52071"].withdrawn
    kev = list(read_kev(shared_data / "kev" / "known_exploited_vulnerabilities.json"))
    assert len(kev) == 1404
    hit = next(o for o in kev if o.facts["cve"] == "CVE-2021-44228")
    assert hit.facts["ransomware"] == "Known" and hit.facts["due_date"] == "2021-12-24"
