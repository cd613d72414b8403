"""Importing what a command needs at its end while it waits on the network.

An evaluation run spends most of its wall time with every request in flight and the
interpreter idle; its report then needs numpy, a tenth of a second to import. Importing it on a
daemon thread at the start of the requests moves that tenth off the run's critical path.
"""

from __future__ import annotations

import importlib
import threading


def import_in_background(*modules: str) -> threading.Thread:
    """Start importing `modules` on a daemon thread; the import lock makes a later `import`
    of the same module on another thread wait for this one rather than run it twice."""

    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except ImportError:  # the later import names the problem where it matters
                return

    thread = threading.Thread(target=load, name="qianmo-warm-imports", daemon=True)
    thread.start()
    return thread
