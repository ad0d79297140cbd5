"""A per-file time budget for ``check``: a file whose analysis runs too long becomes that file's error instead of
stalling the run (the worker process goes on with the next file)."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

#: Seconds one file may take in ``check`` and ``fix`` unless ``--timeout`` or the ``timeout`` setting says
#: otherwise (the slowest file of torch 2.13 and transformers 5.25 takes well under a second to check).
DEFAULT_TIMEOUT = 30.0


class OverBudget(BaseException):
    """The file's analysis took longer than its budget. A BaseException, so that the engine's guard against
    crashing rules (``except Exception``) lets it through when the alarm rings inside a rule."""


def can_interrupt() -> bool:
    """SIGALRM needs POSIX and the main thread (true in the CLI and in the runner's worker processes; the LSP
    server lints in threads and gets no budget)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_budget(seconds: float | None, message: str) -> Iterator[None]:
    """Raise ``OverBudget(message)`` in the body after ``seconds`` (no limit when ``seconds`` is None or <= 0)."""
    if not seconds or seconds <= 0 or not can_interrupt():
        yield
        return

    def on_alarm(signum, frame):
        raise OverBudget(message)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
