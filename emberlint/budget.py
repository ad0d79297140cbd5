"""A per-file time budget for ``check`` and ``fix``: a file whose analysis runs too long becomes that file's error
instead of stalling the run (the worker process goes on with the next file).

The budget is CPU time of the process (``ITIMER_PROF``), not wall time: what never ends in an analysis is a loop
that burns CPU, and on a loaded machine (a shared CI runner, ``nice``) wall time stretches many times over. The
watchdog run over torch saw a file that takes 3.4 s of CPU exceed 30 s of wall time under a load of 8 on 2 cores.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

#: Seconds (of CPU) one file may take in ``check`` unless ``--timeout`` or the ``timeout`` setting says otherwise;
#: the slowest file of torch 2.13 takes 4.2 s of CPU to check (strict profile), of transformers 5.25 1.4 s.
DEFAULT_TIMEOUT = 30.0


class OverBudget(BaseException):
    """The file's analysis took longer than its budget. A BaseException, so that the engine's guard against
    crashing rules (``except Exception``) lets it through when the alarm rings inside a rule."""


def can_interrupt() -> bool:
    """The timer's signal needs POSIX and the main thread (true in the CLI and in the runner's worker
    processes; the LSP server lints in threads and gets no budget)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_budget(seconds: float | None, message: str, error: type[BaseException] = OverBudget) -> Iterator[None]:
    """Raise ``error(message)`` (``OverBudget`` for ``check``, ``FixTimeout`` for ``fix``) in the body once it has
    used ``seconds`` of CPU time (no limit when ``seconds`` is None or <= 0)."""
    if not seconds or seconds <= 0 or not can_interrupt():
        yield
        return

    def on_alarm(signum, frame):
        raise error(message)

    previous = signal.signal(signal.SIGPROF, on_alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
