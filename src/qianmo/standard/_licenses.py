"""Data licences and their properties, from `data/licenses.yaml`.

Expressions are parsed with `license-expression`, but with a `Licensing` built from our own
table: its bundled SPDX list lacks `CAPEC-tou` and rejects `LicenseRef-…` symbols.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from license_expression import (
    AND,
    OR,
    ExpressionError,
    LicenseSymbol,
    Licensing,
)

from qianmo._yaml import safe_load

UNKNOWN = "LicenseRef-unknown"


@dataclass(frozen=True)
class License:
    id: str
    name: str
    commercial: bool
    attribution: bool
    share_alike: bool
    no_derivatives: bool
    academic_only: bool
    public_domain: bool
    rank: int
    notice: str
    url: str


@dataclass(frozen=True)
class LicenseTerms:
    """What an expression allows, taking the strictest member of AND and the freest of OR."""

    expression: str
    commercial: bool
    attribution: bool
    share_alike: tuple[str, ...]
    no_derivatives: bool
    academic_only: bool
    unknown: bool
    rank: int
    licenses: tuple[str, ...]


class LicenseTable:
    def __init__(self, licenses: list[License]) -> None:
        self.by_id = {lic.id: lic for lic in licenses}
        self._by_key = {lic.id.lower(): lic for lic in licenses}
        self.licensing = Licensing([LicenseSymbol(lic.id) for lic in licenses])
        self._unknown = self.by_id[UNKNOWN]
        # Parsing an expression costs ~0.2 ms and an import checks one per record (measured in
        # bench/ingest_bench.py): remember the answers, which depend on nothing else.
        self._normalized: dict[str, str] = {}

    def get(self, license_id: str) -> License:
        """A licence by id; an unlisted `LicenseRef-*` counts as the most restrictive."""
        found = self._by_key.get(license_id.lower())
        if found is not None:
            return found
        if license_id.startswith("LicenseRef-"):
            return License(**{**self._unknown.__dict__, "id": license_id, "name": license_id})
        raise KeyError(license_id)

    def normalize(self, expression: str) -> str:
        """The expression in canonical spelling; raises ValueError naming an unknown licence."""
        known = self._normalized.get(expression)
        if known is None:
            known = self._normalized[expression] = self._normalize(expression)
        return known

    def _normalize(self, expression: str) -> str:
        try:
            parsed = self.licensing.parse(expression, validate=False, strict=True)
        except ExpressionError as e:
            raise ValueError(f"not a licence expression: {expression!r} ({e})") from e
        if parsed is None:
            raise ValueError("must not be empty")
        for sym in self.licensing.license_symbols(parsed):
            key = str(sym.key)
            if key.lower() not in self._by_key and not key.startswith("LicenseRef-"):
                raise ValueError(
                    f"unknown licence {key!r} (use an SPDX id from the licence table "
                    "or a LicenseRef-… for other terms)"
                )
        canonical = {lic.id.lower(): lic.id for lic in self.by_id.values()}
        return _respell(str(parsed), canonical)

    def terms(self, expression: str) -> LicenseTerms:
        text = self.normalize(expression)
        return self._terms(self.licensing.parse(text), text)

    def _terms(self, node: Any, text: str) -> LicenseTerms:
        if isinstance(node, LicenseSymbol):
            lic = self.get(str(node.key))
            return LicenseTerms(
                expression=text,
                commercial=lic.commercial,
                attribution=lic.attribution,
                share_alike=(lic.id,) if lic.share_alike else (),
                no_derivatives=lic.no_derivatives,
                academic_only=lic.academic_only,
                unknown=lic.id == UNKNOWN or lic.id not in self.by_id,
                rank=lic.rank,
                licenses=(lic.id,),
            )
        parts = [self._terms(arg, text) for arg in node.args]
        if isinstance(node, OR):  # the recipient may pick the freest option
            return min(parts, key=lambda t: t.rank)
        assert isinstance(node, AND)
        return LicenseTerms(
            expression=text,
            commercial=all(p.commercial for p in parts),
            attribution=any(p.attribution for p in parts),
            share_alike=tuple(sorted({s for p in parts for s in p.share_alike})),
            no_derivatives=any(p.no_derivatives for p in parts),
            academic_only=any(p.academic_only for p in parts),
            unknown=any(p.unknown for p in parts),
            rank=max(p.rank for p in parts),
            licenses=tuple(sorted({x for p in parts for x in p.licenses})),
        )


def _respell(expression: str, canonical: dict[str, str]) -> str:
    tokens = expression.replace("(", " ( ").replace(")", " ) ").split()
    out = [canonical.get(t.lower(), t) if t not in {"AND", "OR", "WITH"} else t for t in tokens]
    return " ".join(out).replace("( ", "(").replace(" )", ")")


@lru_cache(maxsize=1)
def load_licenses() -> LicenseTable:
    text = resources.files("qianmo.standard").joinpath("data/licenses.yaml").read_text("utf-8")
    raw = safe_load(text)
    return LicenseTable([License(**entry) for entry in raw["licenses"]])
