"""Server processes with a listening socket each, so the kernel spreads connections evenly.

uvicorn's `--workers` shares one listening socket between its processes. Each process's event
loop accepts every pending connection when it wakes (asyncio accepts up to the backlog at a
time), so a burst of new connections lands mostly on whichever process woke first, and a
keep-alive client stays there: with 50 annotators on two processes, 42 against 8, and the 42
waited ~450 ms a request against ~80 ms for the 8 (bench/annotate_load.py, docs/annotation.md).

On Linux, sockets bound to one port with SO_REUSEPORT each get their own accept queue, and the
kernel hands each new connection to one of them by a hash of its addresses: one socket per
process spreads the connections about evenly. The parent binds them all (so the port is taken
before any process starts, and a replaced process gets its predecessor's socket) and otherwise
supervises as uvicorn's `Multiprocess` does.
"""

from __future__ import annotations

import socket
import sys

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process


def balanced_listeners_supported() -> bool:
    # Elsewhere SO_REUSEPORT exists but does not balance (on macOS the last socket bound takes
    # every connection): there the one shared socket stays.
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def listeners(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` sockets bound to (host, port) with SO_REUSEPORT (not yet listening: each process
    listens on its own when it starts serving). Fails, naming the address, if it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    made: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            made.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            if port == 0:  # the first socket's free port, for the others too
                port = sock.getsockname()[1]
    except OSError as e:
        for sock in made:
            sock.close()
        raise OSError(e.errno, f"cannot listen on {host}:{port}: {e.strerror}") from e
    return made


class OwnListenerProcesses(Multiprocess):
    """uvicorn's supervisor, giving process i the socket i (and its replacement the same)."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets=[])
        self.own = sockets
        self.processes_num = len(sockets)

    def _process(self, index: int) -> Process:
        process = Process(self.config, [self.own[index]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._process(i) for i in range(len(self.own))]

    def restart_all(self) -> None:
        # SIGHUP: replace each process in turn (uvicorn waits for the new one to be ready
        # first; here the old one goes first, since the socket is the old one's).
        for index, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            old.terminate()
            old.join()
            self.processes[index] = self._process(index)

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung or dead
            process.join()
            if process.exitcode == STARTUP_FAILURE:  # a restart would fail the same way
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            self.processes[index] = self._process(index)

    def run(self) -> None:
        try:
            super().run()
        finally:
            for sock in self.own:
                sock.close()
