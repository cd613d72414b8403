"""Picking a few values out of stored JSON documents inside the database.

A release check over half a million records needs a dozen small fields of each record, not its
content: parsing whole documents in Python was most of its time (bench/release_bench.py). The
database picks the fields and hands back one small JSON array a row. SQLite and PostgreSQL spell
this differently, so the expression is built for the dialect of the session that runs it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Text, func, literal_column, type_coerce
from sqlalchemy.orm import QueryableAttribute, Session

Column = ColumnElement[Any] | QueryableAttribute[Any]
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_PATH = re.compile(rf"{_NAME}(\.{_NAME})*")


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _checked(path: str) -> str:
    # Paths are written into the statement (a bound value would not be part of SQLAlchemy's
    # statement cache key), so only plain dotted names are accepted.
    if not _PATH.fullmatch(path):
        raise ValueError(f"not a dotted JSON path: {path!r}")
    return path


def _path(path: str) -> ColumnElement[Any]:
    """A path as SQLite writes it: `'$.a.b'`."""
    return literal_column(f"'$.{_checked(path)}'")


def _pg_path(path: str) -> ColumnElement[Any]:
    """A path as PostgreSQL writes it: `'{a,b}'`."""
    return literal_column("'{" + _checked(path).replace(".", ",") + "}'")


def json_values(session: Session, column: Column, paths: Sequence[str]) -> ColumnElement[Any]:
    """A JSON array of the values at `paths` (dotted, e.g. `source.tlp`; null when missing).

    SQLite answers text; PostgreSQL's driver may answer the parsed list."""
    if _sqlite(session):
        picked = func.json_extract(column, *[_path(p) for p in paths])
        if len(paths) == 1:  # with one path json_extract answers the value, not an array
            picked = func.json_array(picked)
        return type_coerce(picked, Text)
    return type_coerce(func.json_build_array(*[column.op("#>")(_pg_path(p)) for p in paths]), Text)
