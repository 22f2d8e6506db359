"""Child processes that never outlive the process that started them.

``ctvsim load`` runs Locust and the embedded mock in sessions of their own, so that a
terminal's Ctrl-C reaches only ``ctvsim``, which then stops them in order. The price is that
a child no longer dies with the terminal's process group: if ``ctvsim`` itself dies (a
signal at the wrong moment, SIGKILL), the child would run on, an orphan holding ports and
pipes. On Linux the child asks the kernel for a signal when its parent goes
(``PR_SET_PDEATHSIG``), which covers every way of dying; elsewhere the parent's own cleanup
is all there is.

They are started with Ctrl-C held back for the moment of the fork. ``subprocess`` runs the
interpreter's at-fork hooks when it forks with a ``preexec_fn``, and Python drops (prints
and ignores) an exception raised inside such a hook: a Ctrl-C that landed there was lost,
and an interrupted ``ctvsim load`` ran to its end and exited 0. Held back, the signal is
delivered as soon as the child is started, as an ordinary KeyboardInterrupt.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = ["spawn"]

_PR_SET_PDEATHSIG = 1


def spawn(command: Sequence[str], *, cpus: Iterable[int] | None = None,
          on_parent_death: int = signal.SIGTERM,
          **popen: Any) -> tuple[subprocess.Popen[bytes], bool]:
    """``subprocess.Popen(command, **popen)``, the child pinned to ``cpus`` (if given) and
    sent ``on_parent_death`` when this process ends, and whether a Ctrl-C came during the
    fork. That Ctrl-C is taken off the pending signals and returned rather than raised: raised
    on the way out, it would lose the caller the child it has to stop."""
    if not hasattr(signal, "pthread_sigmask"):
        setup = _preexec(cpus, on_parent_death, None)
        return subprocess.Popen(command, preexec_fn=setup, **popen), False
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        child: subprocess.Popen[bytes] = subprocess.Popen(
            command, preexec_fn=_preexec(cpus, on_parent_death, before), **popen)
        ctrl_c = signal.SIGINT in signal.sigpending()
        if ctrl_c:
            signal.sigwait({signal.SIGINT})  # pending, so this returns at once
        return child, ctrl_c
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _preexec(cpus: Iterable[int] | None, on_parent_death: int,
             mask: set[int | signal.Signals] | None) -> Callable[[], None]:
    """The child's setup between fork and exec. It gives back the signal mask it inherited
    (exec keeps a blocked SIGINT blocked), pins it, and ties it to its parent's life.

    The kernel ties the signal to the thread that forks, so it is asked for only when the
    main thread starts the child (a worker thread's end must not stop a mock it started).
    """
    pinned = set(cpus) if cpus else None
    tied = sys.platform.startswith("linux") and threading.current_thread() is \
        threading.main_thread()
    prctl = ctypes.CDLL(None, use_errno=True).prctl if tied else None  # resolved before fork
    parent = os.getpid()

    def setup() -> None:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if pinned is not None:
            os.sched_setaffinity(0, pinned)
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, on_parent_death)
            if os.getppid() != parent:  # the parent died before the request took effect
                os.kill(os.getpid(), on_parent_death)
    return setup
