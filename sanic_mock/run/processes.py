"""How Sanic's server processes start and stop: signals at any moment, the workers, a prompt exit.

Sanic handles SIGINT and SIGTERM through its event loop only once the server is up. Before that
(and again once its shutdown has begun) Python's own handling applies: a Ctrl-C raised
`KeyboardInterrupt` inside whatever callback was running — uvloop logged it as a transport error
and went on serving — and a SIGTERM killed the process without a word. So the serving process
installs `stop_now` for both signals before Sanic starts and again as its shutdown begins: a
signal that arrives before Sanic's own handlers, or a second one during the graceful stop, ends
the process at once.

`--workers N` does not use Sanic's worker manager. On a signal during start-up it spun waiting
for the acknowledgement of workers it had already stopped, and on a second signal it sent
SIGKILL to the process group of its workers — the caller's group, so a shell script, `make` or a
test runner died with it. `supervise` starts the workers itself (spawned, as Sanic did) and
signals each of them by its pid, never a group: SIGTERM for a graceful stop, SIGKILL for
whatever still runs `KILL_AFTER_S` later or at a second signal.

After a clean stop the process leaves with `exit_now`: freeing the corpus and the interpreter at
exit took 0.5-0.7 s of a Ctrl-C with the default corpus, and there is nothing left to keep.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from multiprocessing import resource_tracker
from multiprocessing.connection import wait
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
GRACE_S = 3.0  # a graceful stop lets answers in flight (a paced stream) finish for this long
KILL_AFTER_S = GRACE_S + 1.5  # then the supervisor kills the workers that are still running


def exit_now(code: int) -> None:
    """Flush what was said and end the process, skipping the interpreter's teardown."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a reader that went away
            pass
    os._exit(code)


def stop_now(signum: int, frame: FrameType | None = None) -> None:
    """A signal handler: end the process at once, with the shell's code for the signal."""
    exit_now(128 + signum)


def stop_now_on_signals(worker: bool) -> None:
    """From here on a stop signal ends the process at once; in a worker, SIGINT is ignored.

    A worker leaves SIGINT to its supervisor (`supervise`): a Ctrl-C reaches every process of
    the foreground group, and the supervisor turns it into a SIGTERM per worker.
    """
    signal.signal(signal.SIGTERM, stop_now)
    signal.signal(signal.SIGINT, signal.SIG_IGN if worker else stop_now)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def supervise(count: int, target: Callable[..., None], args: tuple[Any, ...]) -> int:
    """Run `target(*args)` in `count` spawned processes until a signal or a worker's exit.

    The stop signals are blocked while the workers are spawned, and the mask is inherited
    through exec: a signal waits until every worker is started and can be signalled, and a
    Ctrl-C, which reaches the whole foreground process group, raises no `KeyboardInterrupt` in a
    worker still importing (it drops it, `stop_now_on_signals`). Returns the exit code: 0 after
    a signal, 1 when a worker ended on its own while the others served.
    """
    workers: list[multiprocessing.process.BaseProcess] = []
    stopping: list[float] = []  # when the first stop signal came

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stopping:  # a second signal: no more waiting
            _kill(workers, signal.SIGKILL)
        else:
            stopping.append(time.monotonic())
            _kill(workers, signal.SIGTERM)

    ctx = multiprocessing.get_context("spawn")  # Sanic's app factory is not fork-safe (DESIGN §3)
    for sig in STOP_SIGNALS:
        signal.signal(sig, on_signal)
    # Blocked, not ignored: a signal that comes meanwhile waits (setting SIG_IGN would drop it)
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        for _ in range(count):
            worker = ctx.Process(target=target, args=args, daemon=True)
            worker.start()
            workers.append(worker)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    if stopping:  # it came before the signals were blocked, when there was no worker yet
        _kill(workers, signal.SIGTERM)
    crashed = False
    while alive := [w.sentinel for w in workers if w.is_alive()]:
        wait(alive, timeout=0.1)
        ended = [w for w in workers if not w.is_alive()]
        if not stopping and ended:  # one ended by itself: stop the others
            crashed = True
            what = f"a worker ended by itself (pid {ended[0].pid}, {_how(ended[0].exitcode)})"
            print(f"mock-openai: error: {what}; stopping", file=sys.stderr, flush=True)
            on_signal(signal.SIGTERM, None)
        elif stopping and time.monotonic() - stopping[0] > KILL_AFTER_S:
            _kill(workers, signal.SIGKILL)
    for w in workers:
        w.join()
    # spawn started multiprocessing's resource tracker; end and reap it, so that nothing of
    # ours outlives this process (it would linger as a zombie of whoever adopts it)
    stop_tracker = getattr(resource_tracker._resource_tracker, "_stop", None)
    if stop_tracker is not None:
        stop_tracker()
    return 1 if crashed else 0


def _how(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def _kill(workers: list[multiprocessing.process.BaseProcess], sig: signal.Signals) -> None:
    """Signal each worker by its own pid (never a process group: it may be the caller's)."""
    for w in workers:
        if w.pid is not None and w.exitcode is None:
            try:
                os.kill(w.pid, sig)
            except ProcessLookupError:  # it ended meanwhile
                pass
