"""The Locust load harness behind `ctvsim load` and `locustfiles/ctv.py`.

Pure parts (no Locust import, safe in any process): `histogram` (µs latencies), `thresholds`
(the pass/fail grammar), `recorder` (per operation x platform figures, mergeable across
workers), `summary` and `reports` (what is printed and written), `reconcile` (harness vs the
mock's journal), `shapes` (user counts over time), `world` (devices and their timelines),
`options` and `runner` (the `ctvsim load` side, which takes a `LoadOptions`).

Locust parts (imported only inside the Locust process): `users` (the device users'
plumbing), `plugin` (wiring: options, world, recorder, results), `monitor`, `locust_csv`,
`compat` (the Locust internals relied on) and `shape` (the load shape). The users themselves,
what a device does, are the top-level `locustfiles/ctv.py`, which `ctvsim load` runs too.
"""
