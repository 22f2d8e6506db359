"""The plumbing of the Locust users that are CTV devices (``locustfiles/ctv.py`` says what
they do with it): each user is one device at a time, walking its timeline (``world.Life``).

``wait_time`` sleeps until the device's next event is due, so a stopping test never cuts a
request in half (users stop while waiting, or finish the request they are in);
``next_due_event`` and ``send_event`` are what a task calls. Requests are named
``{operation} [{platform}]`` so Locust's own tables break down by both; attempts that the
retry policy re-sends are named ``... retried`` and counted apart from final outcomes.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import gevent
from gevent import GreenletExit
from locust import FastHttpUser

from simulator import contract
from simulator.behaviour import Event
from simulator.load.recorder import Recorder, request_name
from simulator.load.world import Life, World
from simulator.retries import Pacer, RetryPolicy

NETWORK_TIMEOUT_S = 10.0


class DeviceUser(FastHttpUser):
    """One simulated device of `platform` (subclasses set it); see the module docstring."""

    abstract = True
    platform: ClassVar[str] = ""
    network_timeout = NETWORK_TIMEOUT_S
    connection_timeout = NETWORK_TIMEOUT_S

    def on_start(self) -> None:
        harness = self.environment.ctvsim
        self.world: World = harness.world
        self.retry: RetryPolicy = harness.retry
        self.pacer: Pacer | None = harness.pacer
        self.names = {op: request_name(op, self.platform) for op in contract.OPERATIONS}
        self.retried_names = {
            op: request_name(op, self.platform, retried=True) for op in contract.OPERATIONS
        }
        self.recorder: Recorder = harness.recorder
        self.life: Life = self.world.life(self.platform, time.monotonic())
        # The S2S API sets no cookies and a device's SDK keeps none for it, so no cookie jar:
        # Locust's session otherwise runs one on every request (about 6 % of the CPU here).
        self.client.client.cookiejar = None

    def wait_time(self) -> float:
        life = self.life
        if life.clock is None:  # --speed max: never a clock to read
            return 0.0
        return max(0.0, life.due_at() - time.monotonic())

    def next_due_event(self) -> Event | None:
        """The device's next event if it is due now, else None. A device whose life has
        ended (it churned) is replaced by a new one at once, which then starts with its
        first_open."""
        life = self.life
        if life.over:
            life = self.life = self.world.life(self.platform, time.monotonic())
        if life.clock is not None and life.due_at() > time.monotonic():
            return None
        return life.take()

    def send_event(self, event: Event) -> None:
        """The event as its signed request, stamped now (paced by --ctv-max-rps)."""
        if self.pacer is not None:
            gevent.sleep(self.pacer.reserve(time.monotonic()))
        life = self.life
        path, body, headers = self.world.request(life, event, int(time.time() * 1000))
        if self.send(event.operation, path, body, headers):
            life.installed = True

    def send(self, operation: str, path: str, body: bytes, headers: dict[str, str]) -> bool:
        """POST one request, re-sending the same bytes as the retry policy allows.

        True when it was a first_open and the final answer accepted it: the one answer that
        changes what the device does next, so other answers' status is not even read.

        An attempt still waiting for its answer when the run stops this user (Locust kills
        it after the stop timeout, and reports nothing for it) is counted as in flight at
        the stop: it was sent, and the target may have journaled it. So is one that a
        Ctrl-C interrupts: Python raises KeyboardInterrupt in whichever greenlet runs when
        the signal comes, which may be this one, in the middle of its request.
        """
        try:
            return self._send(operation, path, body, headers)
        except (GreenletExit, KeyboardInterrupt):
            self.recorder.in_flight_at_stop(self._attempt_name)
            raise

    def _send(self, operation: str, path: str, body: bytes, headers: dict[str, str]) -> bool:
        retry = self.retry
        self._attempt_name = self.names[operation]
        if retry.retries == 0:
            # Locust annotates data as str or dict; FastHttpSession sends bytes as they are,
            # which a signed body needs.
            response = self.client.request("POST", path, data=body,  # type: ignore[arg-type]
                                           headers=headers, name=self.names[operation])
            return (operation == contract.FIRST_OPEN
                    and response.status_code in contract.SUCCESS_STATUSES)
        attempts = 0
        while True:
            attempts += 1
            with self.client.request("POST", path, data=body,  # type: ignore[arg-type]
                                     headers=headers, name=self.names[operation],
                                     catch_response=True) as response:
                status = response.status_code or None
                delay = retry.after(attempts, status, _retry_after(response))
                if delay is not None:
                    response.request_meta["name"] = self.retried_names[operation]
            if delay is None:
                return (operation == contract.FIRST_OPEN
                        and status in contract.SUCCESS_STATUSES)
            self._attempt_name = ""  # this attempt is counted; the wait is not an attempt
            gevent.sleep(delay)
            self._attempt_name = self.names[operation]


def _retry_after(response: Any) -> str | None:
    headers = getattr(response, "headers", None)
    return headers.get("retry-after") if headers else None


def per_platform_classes(base: type[DeviceUser],
                         platforms: tuple[str, ...] = contract.PLATFORMS,
                         ) -> dict[str, type[DeviceUser]]:
    """``RokuDevice``, ``TizenDevice``, ...: one subclass of ``base`` per platform, defined
    in ``base``'s module (the plugin weights them by the profiles' mix at init)."""
    return {
        f"{name.capitalize()}Device": type(
            f"{name.capitalize()}Device", (base,),
            {"platform": name, "__module__": base.__module__, "abstract": False,
             "__doc__": f"A {name} device: {base.__doc__.splitlines()[0] if base.__doc__ else ''}"},
        )
        for name in platforms
    }
