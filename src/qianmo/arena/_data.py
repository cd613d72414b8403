"""The YAML files that ship inside the package: attacks, benign requests, templates, patterns."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from qianmo._yaml import safe_load
from qianmo.errors import QianmoError


@cache
def load_data(name: str) -> Any:
    """One of the package's data files, parsed once."""
    path = resources.files("qianmo.arena").joinpath("data", name)
    try:
        return safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise QianmoError(
            f"not valid YAML: {e}", file=f"qianmo/arena/data/{name}", line=line
        ) from e
