"""The one error type users see, with the place it came from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a problem was found: any subset of file, line, field and object id."""

    file: str | None = None
    line: int | None = None
    field: str | None = None
    object_id: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line is not None else self.file)
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.object_id:
            parts.append(self.object_id)
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)


class QianmoError(Exception):
    """A user-facing error: the CLI prints it as one line and exits 1."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        object_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = Location(file=file, line=line, field=field, object_id=object_id)

    def __str__(self) -> str:
        where = str(self.location)
        return f"{where}: {self.message}" if where else self.message


class NotFound(QianmoError):
    """The object does not exist, or the caller may not know that it does."""


class PolicyRefused(QianmoError):
    """The request is well-formed but the rules forbid it."""
