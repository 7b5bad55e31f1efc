"""Stage 2, feature engineering: fitted transforms compiled into a plan.

Not built yet: its issue has not landed.
"""

__all__: list[str] = []
