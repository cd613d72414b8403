"""What `qianmo demo` hands each capability's demo step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from qianmo.settings import Settings
from qianmo.store import Database


@dataclass
class DemoContext:
    db: Database
    settings: Settings
    console: Console
    serve: bool
    # Steps leave what later steps need here (e.g. the demo admin's password for the server).
    state: dict[str, Any] = field(default_factory=dict)
