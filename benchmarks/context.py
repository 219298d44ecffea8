"""What every benchmark gets: the size of the run (smoke or full) and a pool of running servers."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from benchmarks.common import Server

log = logging.getLogger("benchmarks")


@dataclass
class Context:
    smoke: bool = False
    servers: dict[str, Server] = field(default_factory=dict)

    def n(self, full: int, smoke: int) -> int:
        """Repetitions: ``full`` in a real run, ``smoke`` in the CI smoke run."""
        return smoke if self.smoke else full

    def budget(self, full: float, smoke: float = 5.0) -> float:
        """Seconds a measuring loop may take before it stops early (smoke runs are time-boxed)."""
        return smoke if self.smoke else full

    def server(self, app: str) -> Server:
        """The app under the production config (gunicorn, 2 workers x 4 threads), started once."""
        if app not in self.servers:
            self.servers[app] = Server(app).start()
        return self.servers[app]

    def close(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()


class Deadline:
    """``while not deadline.passed`` loops that stop after a time budget."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.end
