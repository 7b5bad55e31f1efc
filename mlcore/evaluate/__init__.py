"""Stage 4, evaluation: metrics against the goal, slices, risk, training vs production data.

Not built yet: its issue has not landed.
"""

__all__: list[str] = []
