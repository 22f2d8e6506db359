"""Progress lines: drawn in place on a terminal, silent anywhere else."""

from __future__ import annotations

import io
import os
import time

from simulator.progress import PipedProgress, ProgressBar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_draws_on_a_terminal_and_wipes_itself() -> None:
    screen = _Terminal()
    bar = ProgressBar("generate", screen)
    time.sleep(0.25)
    bar.update(0.5, 1234, "requests")
    bar.close()
    text = screen.getvalue()
    assert "\rgenerate [###############...............]  50.0% 1,234 requests" in text
    assert text.endswith("\r\x1b[K")


def test_nothing_is_drawn_off_a_terminal() -> None:
    log = io.StringIO()
    bar = ProgressBar("send", log)
    time.sleep(0.25)
    bar.update(1.0, 10, "requests")
    bar.close()
    piped = PipedProgress(log)
    piped.start()
    piped.stop()
    assert log.getvalue() == ""


def test_the_load_line_follows_the_pipe_and_stays_on_screen() -> None:
    screen = _Terminal()
    piped = PipedProgress(screen)
    writer = os.dup(piped.fd_for_child)  # what the Locust child holds
    piped.start()
    os.write(writer, b'{"elapsed": 1.0, "users": 5, "rps": 120.5, "requests": 120, '
                     b'"failures": 0}\nnot json\n')
    os.close(writer)
    piped.stop()
    text = screen.getvalue()
    assert "ctvsim load:     1.0s  users      5      120.5 req/s  requests       120" in text
    assert text.endswith("\n")
