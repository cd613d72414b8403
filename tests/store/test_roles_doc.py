"""docs/roles.md shows exactly the role table the code enforces."""

from __future__ import annotations

from pathlib import Path

from qianmo.store import ROLES, permission_descriptions, role_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"


def test_the_roles_page_matches_roles_yaml() -> None:
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    table = role_table()
    documented = {}
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) != len(ROLES) + 2:
            continue  # the TLP table
        documented[cells[0].strip("`")] = {r for r, c in zip(ROLES, cells[1:-1], strict=True) if c}
    assert set(documented) == set(permission_descriptions())
    for permission, roles in documented.items():
        assert roles == {r for r in ROLES if permission in table[r]}, permission
