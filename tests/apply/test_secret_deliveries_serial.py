"""Secrets of creates that finish together are handed to the sinks one at a time."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from reconciler.apply.secrets import NewSecret, SecretSinks


class OverlapSpy:
    """A sink that notes how many deliveries were inside it at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self.names: list[str] = []
        self._guard = threading.Lock()

    def check(self) -> None:
        return None

    def describe(self) -> str:
        return "spy"

    def deliver(self, secret: NewSecret) -> None:
        with self._guard:
            self.inside += 1
            self.most = max(self.most, self.inside)
        time.sleep(0.01)  # long enough for a parallel delivery to arrive
        with self._guard:
            self.inside -= 1
            self.names.append(secret.name)


def test_parallel_deliveries_never_overlap_inside_a_sink() -> None:
    spy = OverlapSpy()
    sinks = SecretSinks([spy])
    secrets = [
        NewSecret(f"e{i}", f"webhook_endpoints.e{i}", f"we_{i}", "https://x.example", "whsec_x")
        for i in range(6)
    ]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(sinks.deliver, secrets))
    assert spy.most == 1
    assert sorted(spy.names) == [f"e{i}" for i in range(6)]
