"""`ctvsim send`: replay generated JSON lines against a target, with retries and a summary.

Every line is checked before the first request goes out, so a broken file is a usage error
(exit 2, ``file:line: what is wrong``) and never a half-sent run. Requests of one device keep
their order (each device is served by one worker); different devices run concurrently.
Exit code 1 when any request finally failed, unless ``--allow-failures``.
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from simulator.cli import UsageError
from simulator.cli._argtypes import (
    non_negative_int,
    path,
    path_text,
    positive_float,
    positive_int,
)
from simulator.errors import ExitCode, TargetError
from simulator.records import Line, parse_lines

if TYPE_CHECKING:
    from simulator.client import AsyncAppsFlyerClient
    from simulator.retries import SendResult
    from simulator.targets import Target

EXAMPLES = """\
examples:
  ctvsim mock &                                  # the local AppsFlyer on 127.0.0.1:8080
  ctvsim send traffic.jsonl --target mock --rebase-time --results results.jsonl
  ctvsim generate --devices 20 -o - | ctvsim send - --target http://127.0.0.1:9000/v1.0/s2s/ \\
      --rebase-time --concurrency 4

keys: the file's signatures are sent as they are to a loopback target; for any other target
(or with --rebase-time) every line is signed again: $CTVSIM_DEV_KEY for AppsFlyer's hosts and
other non-loopback URLs, the apps file's mock keys for loopback ($CTVSIM_KEY_SOURCE=env|apps
overrides; see the README's security section).

exit codes: 0 every request accepted (or --allow-failures); 1 some request finally failed, or
the results could not be written; 2 usage error (bad flag, bad line in FILE, no key for the
target, production without --allow-production): nothing sent; 130 interrupted (the results
of the requests that completed are written).
"""

_QUEUE_DEPTH = 256


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "send", help="replay generated JSON lines against a target",
        description="Send the requests of a `ctvsim generate` file (or stdin) to a target, "
        "with bounded concurrency, an optional rate limit and retries, then print a summary "
        "per status.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=path_text, metavar="FILE|-",
                        help="JSON lines from `ctvsim generate`")
    parser.add_argument("--target", required=True, metavar="T",
                        help="production | sandbox | mock | a base URL such as "
                        "http://127.0.0.1:8080/v1.0/s2s/")
    parser.add_argument("--rate", type=positive_float, metavar="R",
                        help="at most R requests per second, retries included (default: no "
                        "limit; production: 5 unless set)")
    parser.add_argument("--concurrency", type=positive_int, default=8, metavar="C",
                        help="requests in flight at once (default 8)")
    parser.add_argument("--retries", type=non_negative_int, default=2, metavar="N",
                        help="retries on connection errors, timeouts, 5xx and 429 (default 2)")
    parser.add_argument("--timeout", type=positive_float, default=10.0, metavar="S",
                        help="seconds per attempt (default 10)")
    parser.add_argument("--rebase-time", action="store_true",
                        help="move timestamps so the last request is now, keeping their "
                        "spacing, and re-sign")
    parser.add_argument("--results", type=path, metavar="FILE",
                        help="write one JSON line per request: line, request_id, operation, "
                        "platform, status, attempts, latency_ms, error")
    parser.add_argument("--allow-production", action="store_true",
                        help="allow --target production (rate-capped unless --rate is set)")
    parser.add_argument("--allow-failures", action="store_true",
                        help="exit 0 even when some requests finally failed")
    parser.add_argument("--profiles", type=path, metavar="DIR",
                        help="profiles dir whose apps.yaml holds the mock keys (--rebase-time)")
    parser.set_defaults(run=run)


# --------------------------------------------------------------------------- re-signing


class Resigner:
    """Signs every line again with the target's key, after moving its timestamp by one shift
    (``--rebase-time``: the last request lands at ``now``) when one is given."""

    def __init__(self, signers: dict[str, Any], shift_ms: int | None = None) -> None:
        self.shift = shift_ms
        self._signers = signers

    def __call__(self, line: Line) -> Line:
        if self.shift is not None:
            import orjson

            body = orjson.loads(line.body)
            line.time_ms += self.shift
            written = body.get("timestamp")
            if written is not None or line.channel == "s2s":  # a C2S SDK may send none
                # in the body's own type: a number, or a C2S SDK's string of digits
                body["timestamp"] = str(line.time_ms) if type(written) is str else line.time_ms
            line.body = orjson.dumps(body)
        line.headers[line.signature_header] = self._signers[line.app_id](line.body)
        return line


def _signers(app_ids: Iterable[str], target: Target, profiles_dir: Path | None) -> dict:
    from simulator import profiles, signing, targets

    apps = profiles.load_profiles(profiles_dir).apps
    signers = {}
    for app_id in app_ids:
        try:
            key = targets.signing_key(apps.get(app_id), target)
        except TargetError as error:
            raise TargetError(f"signing app {app_id}'s requests for {target.name}: "
                             f"{error}") from None
        signers[app_id] = signing.Signer(key)
    return signers


def _without_forwarded_for(line: Line) -> Line:
    """A C2S line's X-Forwarded-For stands for the device's address towards a local mock
    (``c2s.py``); elsewhere the connection's address is the truth, so it is not sent."""
    line.headers = {name: value for name, value in line.headers.items()
                    if name.lower() != "x-forwarded-for"}
    return line


# --------------------------------------------------------------------------- sending


@dataclass(slots=True)
class Tally:
    total: int
    done: int = 0
    failed: int = 0
    attempts: int = 0
    by_status: Counter[tuple[str, str]] = field(default_factory=Counter)  # (status, operation)


def _status_label(result: SendResult) -> str:
    if result.status is not None:
        return str(result.status)
    return (result.error or "error").split(":")[0]


async def _send_all(lines: Iterable[Line], client: AsyncAppsFlyerClient, concurrency: int,
                    tally: Tally, results: IO[bytes] | None) -> None:
    """Workers per device hash keep each device's requests in order; queues bound memory."""
    import asyncio

    import orjson

    from simulator import retries
    from simulator.progress import ProgressBar

    progress = ProgressBar("send")
    queues: list[asyncio.Queue[Line | None]] = [
        asyncio.Queue(_QUEUE_DEPTH) for _ in range(concurrency)
    ]

    async def worker(queue: asyncio.Queue[Line | None]) -> None:
        while (line := await queue.get()) is not None:
            try:
                result = await client.send(line.path, line.body, headers=line.headers,
                                           channel=line.channel)
            except Exception as error:  # one unsendable line must not stop the run
                result = retries.SendResult(None, 0, 0.0,
                                                  f"{type(error).__name__}: {error}")
            tally.done += 1
            tally.attempts += result.attempts
            tally.failed += not result.ok
            tally.by_status[(_status_label(result), line.operation)] += 1
            if results is not None:
                results.write(orjson.dumps({
                    "line": line.number, "request_id": line.request_id,
                    "operation": line.operation, "platform": line.platform,
                    "status": result.status, "attempts": result.attempts,
                    "latency_ms": round(result.latency_s * 1000, 3), "error": result.error,
                }) + b"\n")
            progress.update(tally.done / max(tally.total, 1), tally.done, "requests")

    workers = [asyncio.create_task(worker(queue)) for queue in queues]
    try:
        for line in lines:
            await queues[zlib.crc32(line.device.encode()) % concurrency].put(line)
        for queue in queues:
            await queue.put(None)
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        progress.close()


# --------------------------------------------------------------------------- the command


def run(args: argparse.Namespace) -> int:
    """Every check first (target, key, every line, the results file), then the requests.

    The file's own signatures (made with the apps file's keys, as ``generate`` makes them)
    go out unchanged where those keys sign; for any other target, or ``--rebase-time``, each
    line is signed again with the key that ``targets.signing_key`` chooses for it.
    """
    import asyncio

    from simulator import client as client_module
    from simulator import retries, targets

    target = targets.resolve_target(args.target, allow_production=args.allow_production)
    source = _Source(args.file)
    total, last_ms, app_ids = source.scan(rebase=args.rebase_time)
    resign = None
    if total and (args.rebase_time or not targets.signs_with_mock_keys(target)):
        shift = int(time.time() * 1000) - last_ms if args.rebase_time else None
        resign = Resigner(_signers(app_ids, target, args.profiles), shift)
    lines = source.lines() if resign is None else map(resign, source.lines())
    if not target.local:  # a device's address travels in a header towards loopback only
        lines = map(_without_forwarded_for, lines)
    tally = Tally(total)
    retry = retries.RetryPolicy(retries=args.retries)

    async def main(results: IO[bytes] | None) -> None:
        async with client_module.AsyncAppsFlyerClient(
            target, allow_production=args.allow_production, retry=retry, timeout=args.timeout,
            max_rate=args.rate, max_connections=args.concurrency,
        ) as http:
            await _send_all(lines, http, args.concurrency, tally, results)

    def send_all(results: IO[bytes] | None) -> bool:
        """Runs every request; True when Ctrl-C cut it short (what completed still counts)."""
        try:
            asyncio.run(main(results))
        except KeyboardInterrupt:
            return True
        return False

    started = time.monotonic()
    if args.results is None:
        interrupted = send_all(None)
    else:
        from simulator.outputs import atomic_output

        with atomic_output(args.results, "--results", source.inputs) as results:
            interrupted = send_all(results)
    _print_summary(tally, target, time.monotonic() - started)
    if interrupted:
        print(f"ctvsim: interrupted: {tally.done:,} of {tally.total:,} requests completed"
              + (f"; their results are in {args.results}" if args.results else ""),
              file=sys.stderr)
        return ExitCode.INTERRUPTED
    if tally.failed and not args.allow_failures:
        return ExitCode.FAILED
    return ExitCode.OK


class _Source:
    """FILE is read twice (check everything, then send, in flat memory); stdin once, kept."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._kept: list[Line] | None = None
        if name != "-" and not Path(name).is_file():
            raise UsageError(f"{name}: no such file")

    def _read(self) -> Iterator[Line]:
        if self.name == "-":
            return parse_lines("<stdin>", sys.stdin.buffer)
        return self._read_file()

    def _read_file(self) -> Iterator[Line]:
        with open(self.name, "rb") as stream:
            yield from parse_lines(self.name, stream)

    def scan(self, rebase: bool) -> tuple[int, int, list[str]]:
        """(line count, latest time, app ids): checks every line before anything is sent."""
        if self.name == "-":
            self._kept = list(self._read())
        count, last_ms = 0, 0
        app_ids: dict[str, None] = {}
        for line in self._kept if self._kept is not None else self._read():
            if rebase and not line.json_body:
                raise UsageError(f"{self.name}:{line.number}: --rebase-time re-stamps the "
                                 "body, so it must be a JSON object")
            count += 1
            last_ms = max(last_ms, line.time_ms)
            app_ids[line.app_id] = None
        return count, last_ms, list(app_ids)

    def lines(self) -> Iterator[Line]:
        return iter(self._kept) if self._kept is not None else self._read()

    @property
    def inputs(self) -> list[Path | int]:
        """What this command reads, which no output may replace (stdin may be a file)."""
        if self.name != "-":
            return [Path(self.name)]
        try:
            return [sys.stdin.fileno()]
        except (AttributeError, OSError, ValueError):  # not backed by a file at all
            return []


def _print_summary(tally: Tally, target: Target, elapsed: float) -> None:
    statuses = sorted({status for status, _ in tally.by_status})
    from simulator.contract import OPERATIONS

    operations = [op for op in OPERATIONS if any(o == op for _, o in tally.by_status)]
    out = [f"sent {tally.done:,} requests to {target.name} ({target.base_url}) in "
           f"{elapsed:.1f} s ({tally.done / max(elapsed, 1e-9):,.0f}/s), "
           f"{tally.attempts - tally.done:,} retries, {tally.failed:,} finally failed"]
    out.append(f"  {'status':<16}" + "".join(f"{op:>12}" for op in operations)
               + f"{'total':>12}")
    for status in statuses:
        row = [tally.by_status[(status, op)] for op in operations]
        out.append(f"  {status:<16}" + "".join(f"{n:>12,}" for n in row) + f"{sum(row):>12,}")
    print("\n".join(out), file=sys.stderr)
