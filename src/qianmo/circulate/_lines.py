"""Text lines of member and decision columns, built by Arrow's kernels instead of row by row.

A check writes one JSON line per selected record (the decision table) and a release hashes one
tab-separated line per member (its members digest) and stores one row per member. Formatting
half a million rows one Python value at a time cost ~1.5 µs a row (`canonical_json` of a tuple,
`heapq.merge` of the two tables); joining the columns element-wise costs a fraction of that.
The bytes are the same as the row-by-row forms: `canonical_json([id, version, hash, label])`
(checked against it in tests/circulate/test_lines.py); a page holding a value that JSON would
escape goes through `canonical_json` itself, row by row.
"""

from __future__ import annotations

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


def tsv_lines(*columns: Any) -> bytes:
    """`"\\t".join(row) + "\\n"` of each row of the columns (Arrow arrays or numpy numbers),
    which must hold no tab or newline."""
    parts: list[Any] = []
    for c in columns:
        parts += [pc.cast(_arrow(c), pa.string()), "\t"]
    parts[-1] = "\n"
    return joined(pc.binary_join_element_wise(*parts, ""))


def _arrow(column: Any) -> pa.Array:
    """A column as one Arrow array: a chunked array's (page-sized) slice in one buffer."""
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks()
    return column if isinstance(column, pa.Array) else pa.array(column)


def json_rows(
    ids: pa.Array, versions: Any, hashes: pa.Array, labels: pa.Array, *, end: str = "\n"
) -> bytes:
    """`canonical_json([id, version, hash, label]) + end` of each row."""
    ids, hashes, labels = _arrow(ids), _arrow(hashes), _arrow(labels)
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
