"""Load shapes for locustfiles/ctv.py: a compressed day, step, spike (--ctv-shape).

    locust -f locustfiles/ctv.py,locustfiles/shapes.py --headless -u 100 -t 2m --ctv-shape day

The day shape plays the profiles' diurnal curve over the run time from local midnight: few
users overnight, the peak (-u) at prime time, late in the run.
"""

from simulator.load.shape import CtvShape  # noqa: F401 (for Locust to find)
