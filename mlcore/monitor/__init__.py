"""Stage 7, monitoring: profiles, drift statistics, streaming detectors, alerts.

Not built yet: its issue has not landed.
"""

__all__: list[str] = []
