"""CTV devices talking to AppsFlyer's PC/Console/CTV S2S API (or the local mock).

One user class per platform (``RokuDevice``, ``TizenDevice``, ...), weighted by the profiles'
mix; each user is one device that sends its first_open, then its sessions and in-app events
when its simulated clock says they happen (``--ctv-speed 1440``: a day a minute). Options:
``locust -f locustfiles/ctv.py --help`` (group "ctv-simulator").
"""

from simulator import contract
from simulator.load import plugin
from simulator.load.users import per_platform_classes

plugin.install()
globals().update(per_platform_classes(contract.PLATFORMS))
