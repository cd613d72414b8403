"""YAML through libyaml's C parser when PyYAML was built with it.

`yaml.safe_load` is the pure-Python parser: reading the bundled taxonomy with it took 0.2 s,
the largest single cost of starting an arena campaign. `CSafeLoader` builds the same safe
types (no arbitrary objects) about ten times faster; `SafeLoader` stays as the fallback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def safe_load(text: str) -> Any:
    """Like `yaml.safe_load`, on the C parser when there is one."""
    return yaml.load(text, Loader=_LOADER)


def safe_load_all(text: str) -> Iterator[Any]:
    return yaml.load_all(text, Loader=_LOADER)


def compose(text: str) -> Any:
    """The node tree (with line marks), on the C parser when there is one."""
    return yaml.compose(text, Loader=_LOADER)


def safe_dump(data: Any, **options: Any) -> str:
    """Like `yaml.safe_dump`, on libyaml's emitter when there is one."""
    return str(yaml.dump(data, Dumper=_DUMPER, **options))
