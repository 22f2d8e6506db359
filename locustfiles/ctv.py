"""CTV devices talking to AppsFlyer's PC/Console/CTV events API (or the local mock).

    locust -f locustfiles/ctv.py --headless -u 50 -r 50 -t 30s -H http://127.0.0.1:8080/v1.0/s2s/
    locust -f locustfiles/ctv.py --headless -u 1 -t 30s --ctv-rate 500 -H ...

Closed model (the first line): each user is one CtvDevice, a smart TV, streaming stick,
console or PC of one platform (RokuDevice, TizenDevice, ...: one class per platform, weighted
by the profiles' mix, filtered with --ctv-platforms). Add locustfiles/shapes.py
(-f locustfiles/ctv.py,locustfiles/shapes.py) for the day, step and spike load shapes
(--ctv-shape). Open model (--ctv-rate or --ctv-ramp, the second line): the one user of each
process is a CtvFleet, so -u is the number of processes. Requests are named
"{operation} [{platform}]". With --ctv-channel c2s (or mixed) devices send as their platform's
AppsFlyer SDK does, on /v1.0/c2s/, named "c2s {operation} [{platform}]". All options:
`locust -f locustfiles/ctv.py --help`.
`ctvsim load` runs this file too.
"""

from locust import task

from simulator.load import plugin
from simulator.load.users import DeviceFleet, DeviceUser, per_platform_classes

plugin.install()  # the --ctv-* options, the simulated devices, the figures, the reports


class CtvDevice(DeviceUser):
    """A device that installed an app with AppsFlyer's SDK, living a human day.

    Its first request is the app's first open. Then, on the days it is used, it launches the
    app a few times (mostly in the evening, more at weekends), and each session sends in-app
    events: content views, ad views, the odd purchase. Between events it sleeps until the
    next one is due on its simulated clock (--ctv-speed 1440: a day a minute; max: no
    waiting), it sends one request at a time as the SDKs do, and re-sends as --ctv-retries
    allows (on C2S: as its SDK does). When it stops using the app for good, the user becomes
    a newly installed device.
    """

    abstract = True

    @task
    def live(self) -> None:
        event = self.next_due_event()
        if event is not None:
            self.send_event(event)


globals().update(per_platform_classes(CtvDevice))


class CtvFleet(DeviceFleet):
    """The same devices in the open model: requests leave at the planned rate, whatever the
    target does.

    At each instant the plan makes a request due, the fleet picks the device whose next event
    comes first among those not waiting for an answer, and sends that event. A device still
    waiting (a slow or hanging answer, retries) sits out, and the plan goes on without it. A
    request that cannot leave (too many in flight, every device busy, the generator behind)
    is dropped and counted with its reason.
    """

    @task
    def send_on_schedule(self) -> None:
        self.keep_the_rate()
