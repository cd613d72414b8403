"""The STIX loader, whole (small files) and streamed (large ones): bundle-level versions wherever
they stand, relationships checked by hand (with the object named), malformed bundles refused
whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import stix2

from qianmo.ingest.sources import SourceError, _stix, read_attack
from qianmo.ingest.sources._stix import load_stix

FIX = Path(__file__).parent / "fixtures"
ATTACK = FIX / "attack" / "attack-2.1-bundle.json"


@pytest.fixture(autouse=True, params=["whole", "streamed"])
def _loading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs on both paths: files up to `WHOLE_MAX_BYTES` are parsed whole, larger
    ones streamed (these fixtures are small, so the limit is lowered to stream them)."""
    if request.param == "streamed":
        monkeypatch.setattr(_stix, "WHOLE_MAX_BYTES", 0)


def _bundle() -> dict[str, Any]:
    return dict(json.loads(ATTACK.read_text()))


def test_stix20_bundle_version_after_its_objects(tmp_path: Path, shared_data: Path) -> None:
    sample = shared_data / "attack" / "enterprise-sample-bundle.json"
    data = json.loads(sample.read_text())
    assert data["spec_version"] == "2.0"
    # the same bundle stating its version after the objects: the streamed reader still finds it
    moved = {"type": "bundle", "id": data["id"], "objects": data["objects"], "spec_version": "2.0"}
    path = tmp_path / "b20.json"
    path.write_text(json.dumps(moved))
    streamed = {o.facts["id"]: o for o in read_attack(path)}
    whole = {o.facts["id"]: o for o in read_attack(sample)}
    assert set(streamed) == set(whole)
    assert streamed["T1566.001"].facts["parent"] == "T1566"
    assert [o.record.content for o in streamed.values()] == [
        o.record.content for o in whole.values()
    ]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("source_ref", "not-an-id", "source_ref 'not-an-id' is not a STIX id"),
        ("relationship_type", None, "relationship_type is required"),
        ("modified", "yesterday", "modified 'yesterday' is not a timestamp"),
    ],
)
def test_bad_relationship_names_file_and_object(
    tmp_path: Path, field: str, value: Any, reason: str
) -> None:
    data = _bundle()
    rel = next(o for o in data["objects"] if o["type"] == "relationship")
    rel[field] = value
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SourceError) as err:
        list(read_attack(path))
    assert reason in str(err.value)
    assert "bundle.json" in str(err.value) and rel["id"] in str(err.value)


def test_truncated_bundle_is_refused_whole(tmp_path: Path) -> None:
    text = ATTACK.read_text()
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(SourceError, match=r"cut\.json.*malformed JSON"):
        list(read_attack(path))
    got: list[Any] = []
    assert list(read_attack(path, on_reject=got.append)) == []
    assert "malformed JSON" in got[0].reason


def test_bundle_without_objects_list(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"type": "bundle", "id": _bundle()["id"], "objects": {}}))
    with pytest.raises(SourceError, match="no 'objects' list"):
        list(read_attack(path))


def _with_shared_citation(tmp_path: Path, citation: dict[str, Any]) -> tuple[Path, list[str]]:
    """The fixture bundle with the same citation added to every technique (as ATT&CK cites one
    report from many objects)."""
    data = _bundle()
    ids = []
    for obj in data["objects"]:
        if obj["type"] == "attack-pattern":
            obj["external_references"] = [*obj["external_references"], dict(citation)]
            ids.append(obj["id"])
    path = tmp_path / "cited.json"
    path.write_text(json.dumps(data))
    return path, ids


def test_repeated_citation_parses_as_stix2_parses_each_copy(tmp_path: Path) -> None:
    citation = {"source_name": "Report", "url": "https://example.org/r", "description": "R"}
    path, ids = _with_shared_citation(tmp_path, citation)
    assert len(ids) >= 2
    loaded = {str(o["id"]): o for o in load_stix(path, None)}
    raw = {o["id"]: o for o in json.loads(path.read_text())["objects"]}
    for oid in ids:
        alone = stix2.parse(raw[oid], allow_custom=True, version="2.1")
        assert loaded[oid].serialize(sort_keys=True) == alone.serialize(sort_keys=True)
    # checked once: every technique holds the one instance made for the first copy
    assert len({id(loaded[oid]["external_references"][-1]) for oid in ids}) == 1


def test_repeated_bad_citation_is_refused_with_its_object(tmp_path: Path) -> None:
    path, ids = _with_shared_citation(tmp_path, {"url": "https://example.org/no-source-name"})
    with pytest.raises(SourceError) as err:
        list(read_attack(path))
    assert "source_name" in str(err.value) and ids[0] in str(err.value)
