"""Stage 5, deployment: bundles, the registry, packaging.

Not built yet: its issue has not landed.
"""

__all__: list[str] = []
