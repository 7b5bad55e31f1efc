"""Stage 1, data collection and preparation: read, join, check, repair and cast.

Not built yet: its issue has not landed.
"""

__all__: list[str] = []
