"""Child processes that never outlive the process that started them.

``ctvsim load`` runs Locust and the embedded mock in sessions of their own, so that a
terminal's Ctrl-C reaches only ``ctvsim``, which then stops them in order. The price is that
a child no longer dies with the terminal's process group: if ``ctvsim`` itself dies (a
signal at the wrong moment, SIGKILL), the child would run on, an orphan holding ports and
pipes. On Linux the child asks the kernel for a signal when its parent goes
(``PR_SET_PDEATHSIG``), which covers every way of dying; elsewhere the parent's own cleanup
is all there is.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable

__all__ = ["preexec"]

_PR_SET_PDEATHSIG = 1


def preexec(cpus: Iterable[int] | None = None,
            on_parent_death: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess.Popen``: pin the child to ``cpus`` (if given) and
    have it sent ``on_parent_death`` when this process ends.

    The kernel ties the signal to the thread that forks, so it is asked for only when the
    main thread starts the child (a worker thread's end must not stop a mock it started).
    """
    pinned = set(cpus) if cpus else None
    tied = sys.platform.startswith("linux") and threading.current_thread() is \
        threading.main_thread()
    if not tied and pinned is None:
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl if tied else None  # resolved before fork
    parent = os.getpid()

    def setup() -> None:
        if pinned is not None:
            os.sched_setaffinity(0, pinned)
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, on_parent_death)
            if os.getppid() != parent:  # the parent died before the request took effect
                os.kill(os.getpid(), on_parent_death)
    return setup
