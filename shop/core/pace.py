"""At most so many acts a second, for one sender: the mail worker's bursts (a tick's alerts and
fills mail thousands of shoppers at once) are spread out, so that neither the mail server nor
the database the e-mails are read from takes the burst while prices tick."""

import time
from collections.abc import Callable


class Pace:
    """Call ``wait()`` before each act: it returns at least 1 / ``per_second`` after the previous
    call returned (no catching up after a slow act); ``per_second`` 0 never waits."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1 / per_second if per_second > 0 else 0.0
        self._clock, self._sleep = clock, sleep
        self._next = float("-inf")

    def wait(self) -> None:
        if not self._interval:
            return
        ahead = self._next - self._clock()
        if ahead > 0:
            self._sleep(ahead)
        self._next = self._clock() + self._interval
