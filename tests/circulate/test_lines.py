"""Lines built by Arrow's kernels equal the row-by-row forms they replace."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from qianmo.circulate._lines import joined, json_rows, tsv_lines
from qianmo.circulate._spill import merge_sorted
from qianmo.standard import canonical_json

ROWS = [
    ("01A", 1, "ab12", "allow"),
    ("01B", 12, "", "tlp"),
    ('01"C', 3, "c\\d", "allow:no-train"),  # escaped by JSON: the page goes row by row
    ("01D\x01", 4, "é中", "licence.use"),
    ("01E", 5, "x\ny", "allow"),  # a newline, as the lines end: escaped all the same
    ("01F", 6, "back\\slash", "allow"),  # a backslash alone
    ('01G"', 7, "ab", "allow"),  # a quote alone
]


def _columns(rows: list[tuple[str, int, str, str]]) -> tuple[pa.Array, ...]:
    columns = [[r[k] for r in rows] for k in range(4)]
    return (
        pa.array(columns[0], pa.string()),
        pa.array(columns[1], pa.int64()),
        pa.array(columns[2], pa.string()),
        pa.array(columns[3], pa.string()),
    )


@pytest.mark.parametrize(
    "rows", [ROWS[:2], ROWS, ROWS[3:4], [ROWS[0], ROWS[4]], [ROWS[5], ROWS[1]], ROWS[6:], []]
)
@pytest.mark.parametrize("end", ["\n", ","])
def test_json_rows_are_canonical_json_lines(
    rows: list[tuple[str, int, str, str]], end: str
) -> None:
    expected = b"".join(canonical_json(list(r)) + end.encode() for r in rows)
    assert json_rows(*_columns(rows), end=end) == expected


def test_tsv_lines_and_joined_read_a_slice() -> None:
    ids, _, hashes, labels = _columns(ROWS[:2])
    assert (
        tsv_lines(ids, np.array([1, 12]), hashes, labels)
        == b"01A\t1\tab12\tallow\n01B\t12\t\ttlp\n"
    )
    assert joined(pa.array(["ab", "cd", "ef"])[1:]) == b"cdef"


def test_merged_pages_are_in_id_order_whatever_the_page_sizes() -> None:
    a_ids = [f"{i:04d}" for i in range(0, 40, 3)]
    b_ids = [f"{i:04d}" for i in range(40) if i % 3]

    def pages(ids: list[str], size: int, side: str) -> list[pa.RecordBatch]:
        return [
            pa.record_batch({"id": ids[k : k + size], "side": [side] * len(ids[k : k + size])})
            for k in range(0, len(ids), size)
        ]

    expected = sorted([(i, "a") for i in a_ids] + [(i, "b") for i in b_ids])
    for size_a, size_b in ((1, 1), (2, 5), (5, 2), (100, 3), (3, 100)):
        merged = merge_sorted(pages(a_ids, size_a, "a"), pages(b_ids, size_b, "b"))
        rows = [r for page in merged for r in zip(*page.to_pydict().values(), strict=True)]
        assert rows == expected
    assert list(merge_sorted(iter([]), iter([]))) == []
