"""Serving the mock: uvicorn (httptools + uvloop) in the foreground, a thread or a subprocess.

uvicorn was chosen over granian by measurement (bench/RESULTS.md): on one pinned core a
trivial ASGI app answered ~35,000 req/s on uvicorn+httptools+uvloop and ~24,000 on granian,
whose Rust threads compete with Python for that core; uvicorn also exposes the connection,
which the reset and empty-response faults need.

Embedding (the pytest fixture, the load harness):

    with MockServer() as mock:                       # background thread, 127.0.0.1, free port
        mock.url          # "http://127.0.0.1:PORT/v1.0/s2s/"
        mock.admin_url    # "http://127.0.0.1:PORT/__admin/"
        mock.stats(); mock.requests(status=400); mock.set_faults("503,probability=0.2")
        mock.reset(); mock.warnings(); mock.admin  # the AdminClient behind these

    MockServer(subprocess=True, cpus={1})           # own process (own core) for `ctvsim load`

Arguments: ``apps`` (a mapping or iterable of ``profiles.App``) or ``apps_file`` (an apps
YAML; default: the bundled ``profiles/apps.yaml``), ``faults`` (a ``FaultPlan``, a spec
mapping, or a path to a YAML file), ``journal_file`` (SQLite), ``ring_size``, ``host``,
``port`` (0: a free port).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess as sp
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from simulator import children, contract
from simulator.errors import InputError
from simulator.mock.admin import ADMIN_PREFIX
from simulator.mock.admin_client import AdminClient
from simulator.mock.app import MockApp
from simulator.mock.asgi import ASGIApp
from simulator.mock.faults import FaultPlan, load_file
from simulator.mock.journal import DEFAULT_DEDUP_WINDOW, DEFAULT_RING_SIZE, Journal
from simulator.mock.registry import Registry
from simulator.mock.stats import Stats
from simulator.profiles import App

STARTUP_TIMEOUT = 15.0
URL_LINE = "ctvsim mock: base URL "
ADMIN_LINE = "ctvsim mock: admin URL "


def build_app(
    *,
    apps: Mapping[str, App] | Iterable[App] | None = None,
    apps_file: str | Path | None = None,
    faults: FaultPlan | Mapping[str, Any] | str | Path | None = None,
    journal_file: str | Path | None = None,
    ring_size: int = DEFAULT_RING_SIZE,
    dedup_window: int = DEFAULT_DEDUP_WINDOW,
) -> MockApp:
    """The mock ASGI app, wired to its registry, journal, fault plan and optional SQLite."""
    registry = Registry.of(apps) if apps is not None else Registry.load(
        Path(apps_file) if apps_file else None)
    plan = _plan(faults)
    sink = None
    if journal_file:
        from simulator.mock.store import SqliteSink

        sink = SqliteSink(str(journal_file))
    journal = Journal(ring_size, dedup_window, sink=sink)
    return MockApp(registry, journal, plan, on_shutdown=(sink.close,) if sink else ())


def _plan(faults: FaultPlan | Mapping[str, Any] | str | Path | None) -> FaultPlan:
    if isinstance(faults, FaultPlan):
        return faults
    if isinstance(faults, (str, Path)):
        return load_file(str(faults))
    return FaultPlan.from_spec(faults)


def listen(host: str, port: int) -> socket.socket:
    """A bound, listening socket (port 0: the system picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    except (TypeError, ValueError, UnicodeError):  # a name no resolver takes (a NUL byte, ...)
        sock.close()
        raise InputError(f"cannot listen on {host!r}: not a host name or address") from None
    sock.set_inheritable(True)
    return sock


def urls(sock: socket.socket) -> tuple[str, str]:
    host, port = sock.getsockname()[:2]
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"http://{netloc}{contract.S2S_PREFIX}", f"http://{netloc}{ADMIN_PREFIX}"


def make_server(app: ASGIApp) -> Any:
    """A uvicorn server for the app: httptools, uvloop, no access log, quick shutdown."""
    import uvicorn

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn re-raises the signal after shutdown; a mock that flushed its journal
            # and stopped on SIGINT/SIGTERM has succeeded, so only set the exit flag.
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            release = getattr(self.config.app, "release_waiting", None)
            if release is not None:
                release()
            await super().shutdown(sockets)

    config = uvicorn.Config(
        app, http="httptools", loop="none", lifespan="on", interface="asgi3", access_log=False,
        log_config=None, log_level="warning", timeout_graceful_shutdown=1,
        server_header=False, date_header=False, proxy_headers=False,
    )
    return _Server(config)


def run_forever(server: Any, sock: socket.socket) -> None:
    """Serve on ``sock`` in this thread's own uvloop event loop until the server is told to exit."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(server.serve(sockets=[sock]))


def _loop_factory() -> Any:
    try:
        import uvloop
    except ImportError:  # Windows: uvloop does not exist there
        return None
    return uvloop.new_event_loop


class MockServer:
    """The real mock on a loopback port, in a background thread or its own process."""

    def __init__(
        self,
        *,
        apps: Mapping[str, App] | Iterable[App] | None = None,
        apps_file: str | Path | None = None,
        faults: FaultPlan | Mapping[str, Any] | str | Path | None = None,
        journal_file: str | Path | None = None,
        ring_size: int = DEFAULT_RING_SIZE,
        host: str = "127.0.0.1",
        port: int = 0,
        subprocess: bool = False,
        cpus: Iterable[int] | None = None,
    ) -> None:
        if subprocess and apps is not None:
            raise ValueError("a subprocess mock reads its apps from apps_file, not apps")
        self._options: dict[str, Any] = dict(apps=apps, apps_file=apps_file, faults=faults,
                             journal_file=journal_file, ring_size=ring_size)
        self._host, self._port = host, port
        self._subprocess = subprocess
        self._cpus = set(cpus) if cpus is not None else None
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._process: sp.Popen[bytes] | None = None
        self._tempfile: str | None = None
        self._admin: AdminClient | None = None
        self.app: MockApp | None = None
        self.url = self.admin_url = ""  # the S2S base URL and the admin API's

    @property
    def c2s_url(self) -> str:
        """The C2S channel's base URL (where AppsFlyer's device SDKs post)."""
        return self.url.replace(contract.S2S_PREFIX, contract.C2S_PREFIX, 1)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> MockServer:
        if self._subprocess:
            self._start_process()
        else:
            self._start_thread()
        self._admin = AdminClient(self.admin_url)
        return self

    def _start_thread(self) -> None:
        self.app = build_app(**self._options)
        sock = listen(self._host, self._port)
        self.url, self.admin_url = urls(sock)
        self._server = make_server(self.app)
        self._thread = threading.Thread(
            target=run_forever, args=(self._server, sock), name="ctv-mock", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the mock server did not start")
            time.sleep(0.005)

    def _start_process(self) -> None:
        command = [sys.executable, "-m", "simulator", "mock", "--host", self._host,
                   "--port", str(self._port), "--ring-size", str(self._options["ring_size"])]
        if self._options["apps_file"]:
            command += ["--apps", str(self._options["apps_file"])]
        if self._options["journal_file"]:
            command += ["--journal", str(self._options["journal_file"])]
        faults = self._options["faults"]
        if isinstance(faults, (str, Path)):
            command += ["--faults", str(faults)]
        elif isinstance(faults, Mapping):
            handle, self._tempfile = tempfile.mkstemp(prefix="ctv-mock-faults-", suffix=".json")
            with os.fdopen(handle, "w") as out:
                json.dump(dict(faults), out)  # JSON is YAML: --faults reads it
            command += ["--faults", self._tempfile]
        elif faults is not None:
            raise ValueError("a subprocess mock takes faults as a mapping or a file path")
        cpus = self._cpus
        # A session of its own: a terminal's Ctrl-C reaches only the process that embeds the
        # mock, which stops it last (after the load that it serves), never first; and it
        # never outlives that process (``children``).
        self._process, ctrl_c = children.spawn(
            command, cpus=cpus, stdout=sp.PIPE, bufsize=0, start_new_session=True)
        try:
            if ctrl_c:
                raise KeyboardInterrupt
            self.url, self.admin_url = self._read_urls(self._process)
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def _read_urls(process: sp.Popen[bytes]) -> tuple[str, str]:
        """The URLs the child prints once it listens (read raw: no buffering hides a line)."""
        assert process.stdout is not None
        fd = process.stdout.fileno()
        output = b""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while ADMIN_LINE.encode() not in output or not output.endswith(b"\n"):
                ready = selector.select(timeout=0.2)
                chunk = os.read(fd, 4096) if ready else b""
                if (ready and not chunk) or time.monotonic() > deadline or (
                        not ready and process.poll() is not None):
                    process.kill()
                    process.wait()
                    raise RuntimeError("the mock subprocess did not start (see its stderr)")
                output += chunk
        found = {}
        for line in output.decode().splitlines():
            for prefix in (URL_LINE, ADMIN_LINE):
                if line.startswith(prefix):
                    found[prefix] = line[len(prefix):].strip()
        return found[URL_LINE], found[ADMIN_LINE]

    def stop(self) -> None:
        """Stop serving (flushing the SQLite journal); safe to call twice."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=STARTUP_TIMEOUT)
            self._thread = None
        if self._process is not None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=STARTUP_TIMEOUT)
            except sp.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout:
                self._process.stdout.close()
            self._process = None
        if self._tempfile:
            os.unlink(self._tempfile)
            self._tempfile = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        """The mock's process id in subprocess mode (to pin or measure it), else None."""
        return self._process.pid if self._process is not None else None

    @property
    def apps(self) -> tuple[App, ...]:
        """The apps this mock knows (ids, dev keys, platforms, plans) for signing requests."""
        if self.app is not None:
            return self.app.registry.apps
        apps_file = self._options["apps_file"]
        return Registry.load(Path(apps_file) if apps_file else None).apps

    # ------------------------------------------------------------------ admin shortcuts

    @property
    def admin(self) -> AdminClient:
        if self._admin is None:
            raise RuntimeError("the mock server is not running")
        return self._admin

    def stats(self) -> Stats:
        return self.admin.stats()

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        return self.admin.requests(**filters)

    def count(self, **filters: Any) -> int:
        return self.admin.count(**filters)

    def warnings(self, limit: int = 100) -> dict[str, Any]:
        return self.admin.warnings(limit)

    def set_faults(self, *rules: Any, seed: int | None = None,
                   duration: float | None = None) -> dict[str, Any]:
        return self.admin.set_faults(*rules, seed=seed, duration=duration)

    def clear_faults(self) -> dict[str, Any]:
        return self.admin.clear_faults()

    def reset(self) -> None:
        self.admin.reset()

    def reset_all(self) -> None:
        self.admin.reset_all()
