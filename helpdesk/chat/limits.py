"""Per-connection input limits."""

import time


class TokenBucket:
    """capacity messages, refilled evenly over period seconds. take() -> 0 if allowed, else seconds to wait."""

    def __init__(self, capacity, period, clock=time.monotonic):
        self.capacity = float(capacity)
        self.rate = capacity / period
        self.tokens = float(capacity)
        self.clock = clock
        self.updated = clock()

    def take(self):
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate
