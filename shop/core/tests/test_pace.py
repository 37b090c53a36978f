"""Pace: at most so many acts a second (the bulk e-mails), on a clock the test moves."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from shop.core.pace import Pace, email_pace
from shop.tests.live import ROOT


class Clock:
    """A monotonic clock that moves only when slept on, or when an act takes time."""

    def __init__(self) -> None:
        self.now, self.slept = 100.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_acts_are_spread_to_at_most_per_second() -> None:
    clock = Clock()
    pace = Pace(10, clock=clock, sleep=clock.sleep)
    at = []
    for _ in range(5):
        pace.wait()
        at.append(round(clock.now - 100.0, 6))
    assert at == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert clock.slept == [0.1] * 4


def test_a_slow_act_is_not_made_up_for_by_a_burst() -> None:
    clock = Clock()
    pace = Pace(10, clock=clock, sleep=clock.sleep)
    pace.wait()
    clock.now += 0.35  # the act took longer than its share
    pace.wait()
    pace.wait()
    assert clock.slept == [0.1]  # the third waits its full interval after the second


def test_zero_never_waits() -> None:
    clock = Clock()
    pace = Pace(0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        pace.wait()
    assert clock.slept == []


def rate_read(tmp_path: Path, value: str) -> subprocess.CompletedProcess[str]:
    """EMAIL_PER_SECOND as a process starting with ``value`` in its environment reads it."""
    return subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.EMAIL_PER_SECOND)"],
        cwd=ROOT,
        env={**os.environ, "VAR_DIR": str(tmp_path), "EMAIL_PER_SECOND": value},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_threads_share_one_pace() -> None:
    # six acts from two threads at 20 a second: five intervals of 50 ms at least between them (a
    # floor, which load only adds to)
    pace = Pace(20)

    def act() -> None:
        for _ in range(3):
            pace.wait()

    started = time.monotonic()
    threads = [threading.Thread(target=act) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started >= 0.25


def test_the_bulk_e_mails_of_a_process_share_its_pace(settings: Any) -> None:
    settings.EMAIL_PER_SECOND = 20
    first = email_pace()
    assert email_pace() is first
    settings.EMAIL_PER_SECOND = 40  # a changed setting (tests change it) gets a pace of its own
    assert email_pace() is not first


@pytest.mark.parametrize(("value", "read"), [("0", "0.0"), ("5", "5.0"), ("12.5", "12.5")])
def test_the_e_mail_rate_is_read_from_the_environment(tmp_path: Path, value: str, read: str) -> None:
    result = rate_read(tmp_path, value)
    assert (result.returncode, result.stdout.strip()) == (0, read), result.stderr


@pytest.mark.parametrize("value", ["-1", "2"])
def test_a_rate_that_is_negative_or_too_slow_for_a_task_is_refused_at_start(
    tmp_path: Path, value: str
) -> None:
    result = rate_read(tmp_path, value)
    assert result.returncode != 0
    assert f"EMAIL_PER_SECOND must be 0 (no cap) or at least 5, not {float(value)}" in result.stderr
