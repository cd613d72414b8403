"""The streamed STIX loader: bundle-level versions wherever they stand, relationships checked
by hand (with the object named), malformed bundles refused whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qianmo.ingest.sources import SourceError, read_attack

FIX = Path(__file__).parent / "fixtures"
ATTACK = FIX / "attack" / "attack-2.1-bundle.json"


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
