"""Lint one large text in worker processes, each over a share of its top-level statements.

On a large file (a generated module, 2 MB dense with findings) most of a lint is the rules visiting nodes, and
``fix`` lints the file several times. ``Workers.lint`` forks one process per share (``engine.shares``: runs of
consecutive top-level statements of about as many lines each). Each worker parses the whole text, so every
analysis the rules read (scopes, array facts, inferred types) is the whole file's, as in one process; it runs the
rules on its share's nodes only (the ``Rule.WHOLE_FILE`` rules over all of it, in share 0) and sends back its
findings, errors and the suppressions it used. The parent merges them in file order and makes the file-level
judgements (``engine.finish``): the result is the one ``engine.lint_text`` gives (``tests/test_split_lint.py``
holds every rule's examples to that at every share boundary).

Only where it is safe and pays: ``fork`` (POSIX), the main thread of a process that runs no other thread (a
forked child inherits none, and could wait forever on a lock one of them held), a text of ``MIN_BYTES`` or more.
Measured on 2 cores (``fix`` of ``benchmarks/fix_scaling.py``'s code, one process against two workers): 5 KB
0.93x, 10 KB 1.22x, 20 KB 1.20x, 40 KB 1.17x, 160 KB 1.36x, 320 KB 1.53x; the bound keeps a margin above the
break-even. A worker that ends without a result (killed, out of memory) makes ``lint`` return None: the caller
lints in process.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import operator
import os
import select
import signal
import threading
import time
from typing import Callable

from emberlint.budget import OverBudget, time_budget
from emberlint.config import Config
from emberlint.engine import Analysis, analyse, finish, rule_severities
from emberlint.model import Edit, FileError, FileResult, Finding, Fix, Position, Severity
from emberlint.suppress import parse_suppressions

MIN_BYTES = 32 * 1024


class Workers:
    """``count`` worker processes per lint, within a budget of ``seconds`` of CPU (None: none) for the parent
    and all its workers together since the object was made; ``over()`` is the exception raised once it is spent."""

    def __init__(self, count: int, seconds: float | None = None,
                 over: Callable[[], BaseException] = lambda: OverBudget("over budget")) -> None:
        self.count = count
        self.seconds = seconds
        self.over = over
        self.cpu = 0.0  # CPU seconds the workers used
        self._start = time.process_time()

    def usable(self, text: str) -> bool:
        return (self.count > 1 and len(text) >= MIN_BYTES and hasattr(os, "fork")
                and threading.current_thread() is threading.main_thread() and threading.active_count() == 1)

    def lint(self, source: str, path: str, config: Config, fixes: str = "all",
             focus: list[tuple[int, int]] | None = None) -> tuple[FileResult, bool] | None:
        """``engine.lint_text(source, path, config, fixes, focus)`` as ``(result, whether it parsed the text)``,
        or None when the workers cannot be used for ``source`` or one of them failed."""
        if not self.usable(source):
            return None
        left = self._left()
        if source.startswith("\ufeff"):
            source = source[1:]
        pending: dict[int, tuple[int, int]] = {}  # read end -> (pid, share)
        replies: dict[int, tuple] = {}
        try:
            for index in range(self.count):
                read_end, write_end = os.pipe()
                try:
                    pid = os.fork()
                except OSError:  # no process left to start (a limit): this process lints
                    os.close(read_end)
                    os.close(write_end)
                    return None
                if pid == 0:  # pragma: no cover (the child: coverage is not collected there)
                    os.close(read_end)
                    for other in pending:
                        os.close(other)
                    _work(source, path, config, fixes, focus, (index, self.count), left, write_end)
                os.close(write_end)
                pending[read_end] = (pid, index)
            while pending:  # each reply decoded as soon as it is in, while the other workers go on
                read_end = _next_done(list(pending))
                pid, index = pending[read_end]
                reply = _read(read_end)
                del pending[read_end]
                replies[index] = _decode(reply, path)
                _, status, usage = os.wait4(pid, 0)
                self.cpu += usage.ru_utime + usage.ru_stime
                if status != 0:
                    replies[index] = ("failed",)
        finally:
            for read_end, (pid, _) in pending.items():  # interrupted (Ctrl-C): no worker outlives the lint
                with contextlib.suppress(OSError):  # already closed by an interrupted read
                    os.close(read_end)
                _kill(pid)
        ordered = [replies[index] for index in range(self.count)]
        if any(reply[0] == "over" for reply in ordered):
            raise self.over()
        if any(reply[0] != "ok" for reply in ordered):
            return None
        return _merge(source, path, rule_severities(config, path, fixes, focus), [reply[1:] for reply in ordered])

    def _left(self) -> float | None:
        if self.seconds is None:
            return None
        left = self.seconds - (time.process_time() - self._start) - self.cpu
        if left <= 0:
            raise self.over()
        return left


def _work(source: str, path: str, config: Config, fixes: str, focus, share: tuple[int, int], seconds: float | None,
          write_end: int) -> None:  # pragma: no cover (runs in the forked child)
    """A worker: analyse one share, write the reply, exit without running the parent's exit code or freeing
    anything (the process ends)."""
    status = 1
    try:
        gc.disable()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            with time_budget(seconds, "over budget"):
                analysis = analyse(source, path, config, fixes, focus, share)
            reply = ("ok", *_encode(analysis))
        except OverBudget:
            reply = ("over",)
        except RecursionError:
            reply = ("failed",)
        with os.fdopen(write_end, "wb") as out:
            out.write(marshal.dumps(reply))
        status = 0
    finally:
        os._exit(status)


def _next_done(read_ends: list[int]) -> int:
    """The first of ``read_ends`` with something to read (a worker writes its reply only once it is done)."""
    ready, _, _ = select.select(read_ends, [], [])
    return ready[0]


def _read(read_end: int) -> tuple:
    with os.fdopen(read_end, "rb") as stream:
        data = stream.read()
    try:
        return marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return ("failed",)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _encode(analysis: Analysis) -> tuple:
    """An analysis as plain values (``marshal`` reads them back ~10x faster than ``pickle`` rebuilds frozen
    dataclasses): findings, errors, the suppressions used (their index in ``Suppressions.all()``, the codes),
    whether the unused ones are judged, whether the text was parsed."""
    result = analysis.result
    findings = [
        (f.start.line, f.start.column, f.end.line, f.end.column, f.code, f.severity.value, f.message,
         None if f.fix is None else (f.fix.safe, f.fix.description,
                                     [(e.start.line, e.start.column, e.end.line, e.end.column, e.text)
                                      for e in f.fix.edits]))
        for f in result.findings
    ]
    errors = [(e.message, e.kind.value, e.line, e.column, e.code, e.end_line, e.end_column) for e in result.errors]
    suppressions = analysis.suppressions
    used = [] if suppressions is None else [(index, sorted(entry.used))
                                            for index, entry in enumerate(suppressions.all()) if entry.used]
    return findings, errors, used, suppressions is not None, analysis.module is not None


_SEVERITIES = {severity.value: severity for severity in Severity}
#: ``Finding.sort_key`` of an encoded finding (one file, no notebook cell): line, column, code, message
_FILE_ORDER = operator.itemgetter(0, 1, 4, 6)


def _decode(reply: tuple, path: str) -> tuple:
    """A worker's reply with its findings as ``Finding`` objects, in file order."""
    if reply[0] != "ok":
        return reply
    rows = sorted(reply[1], key=_FILE_ORDER)
    return ("ok", [(row[:7], _finding(path, row)) for row in rows], *reply[2:])


def _merge(source: str, path: str, severities: dict, replies: list[tuple]) -> tuple[FileResult, bool]:
    """The workers' decoded replies (in share order) as one lint's result: a finding two workers report (on a
    node outside both shares) once; a rule that crashed in one share reports nothing in the later ones (in one
    process it is switched off for the rest of the file)."""
    result = FileResult(path)
    seen: set[tuple] = set()
    broken: set[str] = set()
    in_order = True
    last: tuple = ()  # the key of the last finding kept
    for findings, errors, *_ in replies:
        for key, finding in findings:
            if key in seen or finding.code in broken:
                continue
            seen.add(key)
            if in_order and result.findings and _FILE_ORDER(key) < _FILE_ORDER(last):
                in_order = False
            last = key
            result.findings.append(finding)
        for message, kind, *where in errors:
            error = FileError(path, message, kind, *where)
            if error not in result.errors and not (kind == "internal" and error.code in broken):
                result.errors.append(error)
        broken.update(e.code for e in result.errors if e.kind.value == "internal" and e.code)
    judged, has_module = replies[0][3:5]
    suppressions = None
    if judged:
        suppressions = parse_suppressions(source)
        entries = suppressions.all()
        for _, _, used, *_ in replies:
            for index, codes in used:
                entries[index].used.update(codes)
    count = len(result.findings)
    finish(Analysis(result, None, suppressions, severities), path)  # unsorted: the shares' findings are in order
    if has_module and (not in_order or len(result.findings) != count):
        result.findings.sort(key=lambda f: f.sort_key)
    return result, has_module


def _finding(path: str, row: tuple) -> Finding:
    line, column, end_line, end_column, code, severity, message, fix = row
    if fix is not None:
        safe, description, edits = fix
        fix = Fix(safe, tuple(Edit(Position(a, b), Position(c, d), text) for a, b, c, d, text in edits), description)
    return Finding(path, Position(line, column), Position(end_line, end_column), code, _SEVERITIES[severity],
                   message, fix)
