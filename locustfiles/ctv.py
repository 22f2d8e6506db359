"""CTV devices talking to AppsFlyer's PC/Console/CTV S2S API (or the local mock).

    locust -f locustfiles/ctv.py --headless -u 50 -r 50 -t 30s -H http://127.0.0.1:8080/v1.0/s2s/

One user class per platform (RokuDevice, TizenDevice, ...), weighted by the profiles' mix and
filtered with --ctv-platforms; each user is one device that sends its first_open, then its
sessions and in-app events when its simulated clock says they happen (--ctv-speed 1440: a day
a minute; max: no waiting). Requests are named "{operation} [{platform}]". Add
locustfiles/shapes.py (-f locustfiles/ctv.py,locustfiles/shapes.py) for the day, step and
spike load shapes (--ctv-shape). All options: `locust -f locustfiles/ctv.py --help`.
The definitions live in the package (simulator/load/locustfile.py), which `ctvsim load` runs.
"""

from simulator.load.locustfile import *  # noqa: F403 (the user classes, for Locust to find)
