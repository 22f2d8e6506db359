"""What one mock knows, shared by the request path (``app.py``) and the admin API
(``admin.py``), so that neither reaches into the other: the apps, the journal and the fault
plan in force (which the admin API replaces as a whole)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from simulator.mock.faults import FaultPlan
from simulator.mock.journal import Journal
from simulator.mock.registry import Registry


@dataclass(slots=True)
class MockState:
    registry: Registry
    journal: Journal = field(default_factory=Journal)
    faults: FaultPlan = field(default_factory=FaultPlan)
    started_at: float = field(default_factory=time.time)
