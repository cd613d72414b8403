"""A requests-per-minute limit: request starts are spaced evenly, never bunched."""

from __future__ import annotations

import asyncio


class RateLimiter:
    """Hands out start times `60 / rpm` seconds apart; `None` means no limit."""

    def __init__(self, rpm: float | None) -> None:
        self.interval = 60.0 / rpm if rpm else 0.0
        self._next = 0.0

    async def acquire(self) -> None:
        if not self.interval:
            return
        now = asyncio.get_running_loop().time()
        # The event loop is single-threaded, so reserving the slot needs no lock.
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)
