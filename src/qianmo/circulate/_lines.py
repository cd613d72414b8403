"""Text lines of member and decision columns, built by Arrow's kernels instead of row by row.

A check writes one JSON line per selected record (the decision table) and a release hashes one
tab-separated line per member (its members digest) and stores one row per member. Formatting
half a million rows one Python value at a time cost ~1.5 µs a row (`canonical_json` of a tuple,
`heapq.merge` of the two tables); joining the columns element-wise costs a fraction of that.
The bytes are the same as the row-by-row forms: `canonical_json([id, version, hash, label])`
(checked against it in tests/circulate/test_lines.py), or the first values a page holds that
JSON would escape send that page through `canonical_json` itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from qianmo.standard import canonical_json

# what orjson writes escaped inside a JSON string: the quote, the backslash, control characters
_ESCAPED = r'["\\\x00-\x1f]'


def joined(lines: pa.Array) -> bytes:
    """The values of a string array without nulls, concatenated (read from its data buffer)."""
    if not len(lines):
        return b""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    start, stop = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return lines.buffers()[2][start:stop].to_pybytes()  # type: ignore[no-any-return]


def _text(values: Any) -> pa.Array:
    return values if isinstance(values, pa.Array) else pa.array(values, pa.string())


def tsv_lines(*columns: Any) -> bytes:
    """`"\\t".join(row) + "\\n"` of each row of the columns (Arrow arrays or numpy numbers),
    which must hold no tab or newline."""
    parts: list[Any] = []
    for c in columns:
        parts += [pc.cast(_arrow(c), pa.string()), "\t"]
    parts[-1] = "\n"
    return joined(pc.binary_join_element_wise(*parts, ""))


def _arrow(column: Any) -> pa.Array:
    return column if isinstance(column, pa.Array) else pa.array(column)


def json_rows(
    ids: pa.Array, versions: Any, hashes: pa.Array, labels: pa.Array, *, end: str = "\n"
) -> bytes:
    """`canonical_json([id, version, hash, label]) + end` of each row."""
    strings = (ids, hashes, labels)
    if any(pc.any(pc.match_substring_regex(s, _ESCAPED)).as_py() for s in strings):
        rows = zip(ids.to_pylist(), _arrow(versions).to_pylist(), hashes.to_pylist(),
                   labels.to_pylist(), strict=True)  # fmt: skip
        return b"".join(canonical_json(list(r)) + end.encode() for r in rows)
    parts = [
        '["', ids, '",', pc.cast(_arrow(versions), pa.string()), ',"', hashes, '","', labels,
        '"]' + end,
    ]  # fmt: skip
    return joined(pc.binary_join_element_wise(*parts, ""))


# A table's decision columns: ids (sorted), versions, content hashes, label numbers, labels.
Labelled = tuple[pa.Array, np.ndarray[Any, Any], pa.Array, np.ndarray[Any, Any], list[str]]


def _head(table: Labelled, start: int, stop: int) -> tuple[pa.Array, ...]:
    ids, versions, hashes, codes, labels = table
    names = pa.array(labels, pa.string()).take(pa.array(codes[start:stop]))
    return ids[start:stop], pa.array(versions[start:stop]), hashes[start:stop], names


def merged_json_rows(a: Labelled, b: Labelled, page: int) -> Iterator[bytes]:
    """`json_rows` of the rows of two tables sorted by id, merged in id order, about `page`
    rows at a time: each step takes the next `page` rows of each table up to the smaller of
    their last ids, so memory holds two pages, not a merged copy of the tables."""
    i, j = 0, 0
    while i < len(a[0]) or j < len(b[0]):
        na, nb = min(page, len(a[0]) - i), min(page, len(b[0]) - j)
        if na and nb:
            bound = min(a[0][i + na - 1].as_py(), b[0][j + nb - 1].as_py())
            na = pc.sum(pc.less_equal(a[0][i : i + na], bound)).as_py() or 0
            nb = pc.sum(pc.less_equal(b[0][j : j + nb], bound)).as_py() or 0
        parts = [
            pa.concat_arrays(pair)
            for pair in zip(_head(a, i, i + na), _head(b, j, j + nb), strict=True)
        ]
        order = pc.sort_indices(parts[0])
        ids, versions, hashes, labels = (p.take(order) for p in parts)
        yield json_rows(ids, versions, hashes, labels)
        i, j = i + na, j + nb
