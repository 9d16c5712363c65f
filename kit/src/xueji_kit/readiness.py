"""When the broker last answered, and whether that is recent enough for the service to take traffic."""

from __future__ import annotations

import time
from collections.abc import Callable


class BrokerContact:
    """Readiness drops only when the broker has not answered for `grace` seconds. One slow or failed ping (a loaded
    node, a connection being re-made) does not take a healthy replica out of service; a broker that stays away does.
    Before its first answer (the broker's start counts as one) the service is not ready."""

    def __init__(self, grace: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._grace = grace
        self._clock = clock
        self._last: float | None = None

    def answered(self) -> None:
        self._last = self._clock()

    def ready(self, answered: bool) -> bool:
        """`answered`: this check's ping got an answer."""
        if answered:
            self.answered()
            return True
        return self._last is not None and self._clock() - self._last < self._grace
