"""The benchmark formats' data table (licences, domains, language names), loaded once."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from qianmo._yaml import safe_load


@lru_cache(maxsize=1)
def bench_table() -> dict[str, Any]:
    text = resources.files("qianmo.ingest.sources").joinpath("data/benchmarks.yaml")
    data: dict[str, Any] = safe_load(text.read_text("utf-8"))
    return data


def bench_license(name: str, options: dict[str, Any] | None) -> str:
    """The publisher's licence, unless the caller states another one (`license` option)."""
    given = (options or {}).get("license")
    return str(given) if given else str(bench_table()["licenses"][name])


def bench_source(
    name: str, publisher: str, options: dict[str, Any] | None, **extra: Any
) -> dict[str, Any]:
    """The `source` block of an item of `publisher`'s benchmark, under its licence."""
    opts = options or {}
    return {
        "name": opts.get("source") or name,
        "org": opts.get("org"),
        "license": bench_license(publisher, opts),
        "tlp": opts.get("tlp", "CLEAR"),
        **extra,
    }


def bench_domain(name: str) -> str | None:
    domain = bench_table()["domains"].get(name)
    return str(domain) if domain else None
