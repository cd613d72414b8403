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

# what orjson writes escaped inside a JSON string, besides the quote: the backslash and the
# control characters (no byte of a longer UTF-8 sequence is one of these)
_ESCAPED = bytes(range(0x20)) + b"\\"


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
    parts = [
        '["', ids, '",', pc.cast(_arrow(versions), pa.string()), ',"', hashes, '","', labels,
        '"]' + end,
    ]  # fmt: skip
    out, tail = joined(pc.binary_join_element_wise(*parts, "")), end.encode()
    # A value JSON escapes shows in the joined bytes as a quote beyond each line's six, or a byte
    # to escape beyond those of `end`: then the page goes row by row. Counted on the bytes, not
    # by a regex over the columns, which cost what the join saved (0.42-0.44 µs a row, as row by
    # row; 0.30 now: 50,000 rows in pages of 10,000, CPU, medians of 7, alternating).
    n = len(ids)
    if out.count(b'"') == 6 * n and _escapable(out) == _escapable(tail) * n:
        return out
    rows = zip(ids.to_pylist(), _arrow(versions).to_pylist(), hashes.to_pylist(),
               labels.to_pylist(), strict=True)  # fmt: skip
    return b"".join(canonical_json(list(r)) + tail for r in rows)


def _escapable(data: bytes) -> int:
    return len(data) - len(data.translate(None, _ESCAPED))
