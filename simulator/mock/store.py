"""The optional SQLite journal (``--journal FILE.db``): every request, for QA to query later.

The hot path only puts the entry tuple on a queue; a writer thread turns entries into rows
and commits them in batches, so disk speed never slows the answers. ``close`` drains the
queue and commits the rest, which is what a graceful shutdown calls.
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import sys
import threading
from datetime import UTC, datetime

import orjson

from simulator.errors import InputError
from simulator.mock import journal as j
from simulator.mock.stats import JournalFile

BATCH = 5_000
_STOP = None

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq INTEGER NOT NULL,          -- journal sequence (restarts after an admin reset)
    received_at TEXT NOT NULL,     -- ISO 8601 UTC, milliseconds
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    channel TEXT, operation TEXT, platform TEXT, app_id TEXT,
    status INTEGER NOT NULL,       -- 0: the connection was reset, closed empty or left hanging
    outcome TEXT NOT NULL,         -- accepted, duplicate, rejected, injected, unrouted
    reason TEXT NOT NULL,
    warnings TEXT NOT NULL,        -- JSON array of strings
    fault TEXT,
    request_id TEXT,
    device_id TEXT,
    body TEXT NOT NULL,
    address TEXT,                  -- the device's: first X-Forwarded-For address, else the peer
    user_agent TEXT                -- the User-Agent header
);
CREATE INDEX IF NOT EXISTS requests_request_id ON requests (request_id);
CREATE INDEX IF NOT EXISTS requests_device_id ON requests (device_id);
"""


class SqliteSink:
    """A callable journal sink that writes entries to SQLite off the event loop.

    A write that fails (a full disk, a file removed underneath) is never silent: the sink
    turns ``failed`` for good, logs one line, and counts every entry it could not keep in
    ``rows_lost`` (the uncommitted batch and all that come after); ``status`` is what the
    admin API shows and what makes ``ctvsim mock`` exit non-zero. The in-memory journal
    and its counters do not depend on it and stay exact.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            connection = sqlite3.connect(path)
            connection.executescript(SCHEMA)
            _add_missing_columns(connection)
            connection.close()
        except sqlite3.Error as error:
            raise InputError(f"--journal {path}: cannot open as SQLite: {error}") from None
        self.rows_written = 0
        self.rows_lost = 0
        self.error: str | None = None
        self._queue: queue.SimpleQueue[j.Record | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="ctv-mock-journal", daemon=True)
        self._thread.start()

    def __call__(self, entry: j.Record) -> None:
        self._queue.put(entry)

    @property
    def failed(self) -> bool:
        return self.error is not None

    def status(self) -> JournalFile:
        return {"file": self.path, "state": "failed" if self.failed else "ok",
                "rows_written": self.rows_written, "rows_lost": self.rows_lost,
                "error": self.error}

    def close(self) -> None:
        """Write everything queued so far, then stop the writer."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def _write(self) -> None:
        connection = sqlite3.connect(self.path)
        try:
            while True:
                batch, stop = self._next_batch()
                if batch and not self.failed:
                    self._insert(connection, batch)
                elif batch:
                    self.rows_lost += len(batch)
                if stop:
                    return
        finally:
            connection.close()

    def _insert(self, connection: sqlite3.Connection, batch: list[j.Record]) -> None:
        try:
            connection.executemany(
                "INSERT INTO requests (seq, received_at, method, path, channel, "
                "operation, platform, app_id, status, outcome, reason, warnings, fault, "
                "request_id, device_id, body, address, user_agent) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_row(j.Entry._make(entry)) for entry in batch],
            )
            connection.commit()
        except (sqlite3.Error, OSError) as error:
            self.error = str(error) or type(error).__name__
            self.rows_lost += len(batch)
            with contextlib.suppress(sqlite3.Error):
                connection.rollback()
            sys.stderr.write(f"ctvsim mock: error: the SQLite journal {self.path} cannot be "
                             f"written ({self.error}); requests are still answered and "
                             "counted, but no longer journaled to the file\n")
            return
        self.rows_written += len(batch)

    def _next_batch(self) -> tuple[list[j.Record], bool]:
        first = self._queue.get()
        if first is _STOP:
            return [], True
        batch = [first]
        while len(batch) < BATCH:
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                break
            if entry is _STOP:
                return batch, True
            batch.append(entry)
        return batch, False


# Columns added since the first schema: a journal file written by an older mock gets them
# (empty in its old rows) instead of refusing every insert.
_LATER_COLUMNS = (("address", "TEXT"), ("user_agent", "TEXT"))


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    present = {row[1] for row in connection.execute("PRAGMA table_info(requests)")}
    for name, kind in _LATER_COLUMNS:
        if name not in present:
            connection.execute(f"ALTER TABLE requests ADD COLUMN {name} {kind}")
    connection.commit()


def _row(entry: j.Entry) -> tuple[object, ...]:
    channel, operation, platform, app_id = entry.route or j.NO_ROUTE
    request_id, device_id = j.body_fields(entry.body)
    return (
        entry.seq,
        datetime.fromtimestamp(entry.time, UTC).isoformat(timespec="milliseconds"),
        entry.method, entry.path,
        channel, operation, platform, app_id,
        entry.status, entry.outcome, entry.reason,
        orjson.dumps(list(entry.warnings)).decode(), entry.fault or None,
        request_id, device_id, entry.body.decode("utf-8", "replace"),
        entry.address or None, entry.user_agent or None,
    )
