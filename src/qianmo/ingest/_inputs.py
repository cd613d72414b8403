"""The inputs of `qianmo ingest PATH…`: files as given, folders walked (a dataset folder is one
input), hidden files skipped, and files of no known format set aside rather than guessed."""

from __future__ import annotations

from pathlib import Path

from qianmo.errors import QianmoError
from qianmo.ingest._registry import detect_format


def _walk(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def expand_inputs(paths: list[Path], fmt: str = "auto") -> tuple[list[Path], list[Path]]:
    """(inputs to import, files skipped because their format is unknown)."""
    inputs: list[Path] = []
    skipped: list[Path] = []
    for path in paths:
        if not path.exists():
            raise QianmoError("no such file or folder", file=str(path))
        if path.is_file() or fmt == "hf" or (fmt == "auto" and _known(path)):
            inputs.append(path)
            continue
        for child in _walk(path):
            if fmt != "auto" or _known(child):
                inputs.append(child)
            else:
                skipped.append(child)
    return inputs, skipped


def _known(path: Path) -> bool:
    try:
        detect_format(path)
    except QianmoError:
        return False
    return True
