"""Per-client rate limits for the public page endpoint: token buckets keyed by the client's
address (an IPv6 client by its /64, which one machine usually holds whole), in memory, with a
bounded number of keys (the oldest are forgotten first, so a flood of addresses cannot grow
the server's memory)."""
from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict


def client_key(host: str | None) -> str:
    try:
        ip = ipaddress.ip_address((host or "").split("%")[0])
    except ValueError:
        return host or "-"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class Buckets:
    """`take(key)`: 0 when the key may go on (a token is used), else the seconds until it
    may. `rate` tokens a second up to `burst`; rate 0 means no limit."""

    def __init__(self, rate: float, burst: float, max_keys: int = 100_000,
                 clock=time.monotonic):
        self.rate, self.burst, self.max_keys, self.clock = rate, max(1.0, burst), max_keys, clock
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, then = self._state.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / self.rate
            self._state[key] = (tokens, now)
            while len(self._state) > self.max_keys:
                self._state.popitem(last=False)
            return wait
