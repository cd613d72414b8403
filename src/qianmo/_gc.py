"""Pausing Python's cyclic garbage collector around loops that hold many objects at once.

The collector's full passes run over every live container, so a loop that grows a large
batch pays for it again and again: parsing a page of 10,000 stored records took 153 µs a record
with the collector on and 16 µs with it paused (a release's check, orjson.loads, same process);
the KEV catalogue's first import took 15.1 CPU s with it on and 10.7 s paused (21,060 records).
Used only around loops that make no reference cycles (JSON documents, records, slotted rows):
reference counting frees everything, and the collector is restored — catching anything cyclic —
when the loop ends. Here, below every layer, because importing and releasing both need it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused(*, keep: bool = False) -> Iterator[None]:
    """`keep=True` where what the block makes lives as long as the process (start-up imports):
    it is frozen, so no later pass walks it — not even the first one after the pause, which
    would otherwise scan everything the block allocated in one go (40–60 ms after the CLI's
    imports)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if keep:
            gc.freeze()
        if was_enabled:
            gc.enable()
