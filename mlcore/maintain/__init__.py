"""Stage 8, maintenance: retraining, champion vs challenger, promotion.

Not built yet: its issue has not landed.
"""

__all__: list[str] = []
