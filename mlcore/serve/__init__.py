"""Stage 6, serving: in process, over HTTP, and in batch into a database.

Not built yet: its issue has not landed.
"""

__all__: list[str] = []
