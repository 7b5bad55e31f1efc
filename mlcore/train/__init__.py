"""Stage 3, training: model selection, fitting and conversion to compiled models.

Not built yet: its issue has not landed.
"""

__all__: list[str] = []
