"""An export's manifest of SHA-256 checksums, and `verify`, which checks a folder against it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from qianmo.errors import QianmoError

MANIFEST = "manifest.json"
CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.name != MANIFEST
    )


def write_manifest(root: Path, header: dict[str, Any]) -> dict[str, Any]:
    files = [
        {"path": rel, "sha256": sha256_file(root / rel), "bytes": (root / rel).stat().st_size}
        for rel in _files(root)
    ]
    manifest = {**header, "files": files}
    (root / MANIFEST).write_bytes(
        orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )
    return manifest


@dataclass
class VerifyReport:
    root: str
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_export(root: Path) -> VerifyReport:
    """Every listed file present with its size and checksum, and no file that is not listed."""
    path = root / MANIFEST
    if not path.is_file():
        raise QianmoError("no manifest.json: not a qianmo export", file=str(root))
    try:
        manifest = orjson.loads(path.read_bytes())
        listed = {f["path"]: f for f in manifest["files"]}
    except (orjson.JSONDecodeError, KeyError, TypeError) as e:
        raise QianmoError(f"unreadable manifest ({e})", file=str(path)) from e
    report = VerifyReport(str(root), manifest=manifest)
    for rel, entry in sorted(listed.items()):
        target = root / rel
        if not target.is_file():
            report.problems.append(f"{rel}: missing")
            continue
        report.checked += 1
        if target.stat().st_size != entry["bytes"] or sha256_file(target) != entry["sha256"]:
            report.problems.append(f"{rel}: checksum mismatch (altered)")
    for rel in _files(root):
        if rel not in listed:
            report.problems.append(f"{rel}: not in the manifest (added)")
    return report
