"""Every exception and warning mlcore raises.

The hierarchy::

    MlcoreError(Exception)
    ├── SchemaError(MlcoreError, ValueError)      a column is missing, or has a type that is not accepted
    │   └── ColumnNotFoundError(SchemaError, KeyError)
    ├── ShapeError(MlcoreError, ValueError)       lengths, feature counts or chunk layouts disagree
    ├── NotFittedError(MlcoreError, AttributeError) a fitted object was used before `fit`
    ├── ArtifactError(MlcoreError, ValueError)    a saved file fails verification or is not a known kind
    └── MissingDependencyError(MlcoreError, ImportError) an optional extra is not installed

    MlcoreWarning(UserWarning)
    └── CopyWarning(MlcoreWarning)                a path that promises zero copy had to copy

Each class also inherits the built-in exception it refines, so code that catches ``ValueError``
keeps working. Messages name the parameter or column, what was expected and what was found.
"""

from __future__ import annotations

__all__ = [
    "MlcoreError",
    "SchemaError",
    "ColumnNotFoundError",
    "ShapeError",
    "NotFittedError",
    "ArtifactError",
    "MissingDependencyError",
    "MlcoreWarning",
    "CopyWarning",
]


class MlcoreError(Exception):
    """Base class of every error mlcore raises on purpose."""


class SchemaError(MlcoreError, ValueError):
    """A column is missing or has a type that the operation does not accept."""


class ColumnNotFoundError(SchemaError, KeyError):
    """A column named by the caller does not exist in the data."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ShapeError(MlcoreError, ValueError):
    """Lengths, feature counts or chunk layouts of inputs disagree."""


class NotFittedError(MlcoreError, AttributeError):
    """A transform, model or monitor was used before it was fitted."""


class ArtifactError(MlcoreError, ValueError):
    """A saved artifact failed verification (hash, format version, kind) and was not loaded."""


class MissingDependencyError(MlcoreError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class MlcoreWarning(UserWarning):
    """Base class of mlcore's warnings."""


class CopyWarning(MlcoreWarning):
    """Data had to be copied on a path that is otherwise zero-copy (the message says why)."""


def missing_dependency(module: str, extra: str) -> MissingDependencyError:
    """Build the error for an optional module that failed to import."""
    return MissingDependencyError(
        f"{module!r} is required for this feature but is not installed; "
        f"install it with: pip install 'mlcore[{extra}]'"
    )
