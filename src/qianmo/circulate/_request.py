"""A release request: a selection, an audience and an intended use, plus who the audience is.

The request carries a `Directory` (partners, vetted marks and the organisations of named
users, read from the store beforehand) so that `decide()` needs nothing else: it stays pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from qianmo.errors import QianmoError
from qianmo.standard import load_licenses

USES = ("commercial-training", "research", "evaluation-only")
OPEN_AUDIENCES = ("public", "members", "vetted")
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)


@dataclass(frozen=True)
class Audience:
    """`public`, `members`, `vetted`, or named organisations and users (`kind == "named"`)."""

    kind: str
    orgs: frozenset[str] = frozenset()
    users: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Audience:
        items = [s.strip() for spec in specs for s in spec.split(",") if s.strip()]
        if not items:
            raise QianmoError("name an audience", field="audience")
        open_ = [i for i in items if i in OPEN_AUDIENCES]
        if open_:
            if len(items) > 1:
                raise QianmoError(f"{open_[0]!r} stands alone", field="audience")
            return cls(kind=open_[0])
        orgs: set[str] = set()
        users: set[str] = set()
        for item in items:
            prefix, _, name = item.partition(":")
            if prefix not in {"org", "user"} or not name:
                raise QianmoError(
                    f"{item!r}: use public, members, vetted, org:NAME or user:NAME",
                    field="audience",
                )
            (orgs if prefix == "org" else users).add(name)
        return cls(kind="named", orgs=frozenset(orgs), users=frozenset(users))

    def specs(self) -> list[str]:
        if self.kind != "named":
            return [self.kind]
        return sorted([*(f"org:{o}" for o in self.orgs), *(f"user:{u}" for u in self.users)])


@dataclass(frozen=True)
class Directory:
    """What the rules need to know about organisations and users, read once per request."""

    partners: Mapping[str, frozenset[str]] = field(default_factory=dict)
    vetted: frozenset[str] = frozenset()
    members: frozenset[str] = frozenset()
    user_orgs: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "partners": {k: sorted(v) for k, v in sorted(self.partners.items())},
            "vetted": sorted(self.vetted),
            "members": sorted(self.members),
            "user_orgs": {k: sorted(v) for k, v in sorted(self.user_orgs.items())},
        }


@dataclass(frozen=True)
class ReleaseRequest:
    name: str
    audience: Audience
    use: str
    filters: tuple[str, ...] = ()
    approver: str | None = None
    derives: bool = False  # the release edits or derives from its records (no-derivatives)
    license: str | None = None  # the share-alike licence the release carries, once chosen
    seed: int = 0
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS
    directory: Directory = field(default_factory=Directory)

    def __post_init__(self) -> None:
        if self.use not in USES:
            raise QianmoError(f"unknown use {self.use!r} (one of: {', '.join(USES)})", field="use")
        if abs(sum(self.fractions) - 1.0) > 1e-9 or min(self.fractions) < 0:
            raise QianmoError("split fractions must be non-negative and sum to 1", field="split")
        if self.license is not None:
            object.__setattr__(self, "license", _normal_license(self.license))

    def with_license(self, license_id: str | None) -> ReleaseRequest:
        return replace(self, license=license_id)

    # -- who receives it ---------------------------------------------------------------
    def recipient_orgs(self) -> list[frozenset[str]]:
        """For a named audience: each recipient as the set of organisations it stands for."""
        out = [frozenset({o}) for o in sorted(self.audience.orgs)]
        out += [self.directory.user_orgs.get(u, frozenset()) for u in sorted(self.audience.users)]
        return out

    def within(self, allowed: frozenset[str]) -> bool:
        """Every recipient is one of (or belongs to one of) the allowed organisations."""
        if self.audience.kind != "named":
            return False
        return all(orgs & allowed for orgs in self.recipient_orgs())

    def members_only(self) -> bool:
        if self.audience.kind == "public":
            return False
        return self.audience.kind != "named" or self.within(self.directory.members)

    def vetted_only(self) -> bool:
        if self.audience.kind == "vetted":
            return True
        return self.within(self.directory.vetted)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "audience": self.audience.specs(),
            "use": self.use,
            "filters": list(self.filters),
            "approver": self.approver,
            "derives": self.derives,
            "license": self.license,
            "seed": self.seed,
            "fractions": list(self.fractions),
            "directory": self.directory.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReleaseRequest:
        d = data["directory"]
        directory = Directory(
            partners={k: frozenset(v) for k, v in d["partners"].items()},
            vetted=frozenset(d["vetted"]),
            members=frozenset(d["members"]),
            user_orgs={k: frozenset(v) for k, v in d["user_orgs"].items()},
        )
        fr = data.get("fractions", DEFAULT_FRACTIONS)
        return cls(
            name=data["name"],
            audience=Audience.parse(data["audience"]),
            use=data["use"],
            filters=tuple(data.get("filters", ())),
            approver=data.get("approver"),
            derives=bool(data.get("derives", False)),
            license=data.get("license"),
            seed=int(data.get("seed", 0)),
            fractions=(float(fr[0]), float(fr[1]), float(fr[2])),
            directory=directory,
        )


def _normal_license(expression: str) -> str:
    try:
        return load_licenses().normalize(expression)
    except ValueError as e:
        raise QianmoError(str(e), field="license") from e
