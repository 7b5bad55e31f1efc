"""Stage 0, goals: metrics with acceptance ranges that gate shipping and flag decay.

Not built yet: its issue has not landed.
"""

__all__: list[str] = []
