"""At most so many acts a second, for one sender: the bulk e-mails (a tick's alerts and a fill's
orders mail thousands of shoppers at once) are spread out, so that neither the mail server nor
the database the e-mails are read from takes the burst while prices tick."""

import threading
import time
from collections.abc import Callable

from django.conf import settings


class Pace:
    """Call ``wait()`` before each act: it returns at least 1 / ``per_second`` after the previous
    call returned, whichever thread made it (no catching up after a slow act); ``per_second`` 0
    never waits."""

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
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self._interval:
            return
        with self._lock:  # the next one waits its turn behind this one
            ahead = self._next - self._clock()
            if ahead > 0:
                self._sleep(ahead)
            self._next = self._clock() + self._interval


_EMAIL_PACES: dict[float, Pace] = {}


def email_pace() -> Pace:
    """This process's pace of bulk e-mails (EMAIL_PER_SECOND), one for all its tasks and threads."""
    per_second = settings.EMAIL_PER_SECOND
    return _EMAIL_PACES.setdefault(per_second, Pace(per_second))
