"""Stage 5, deployment: bundles, the registry, live loading and packaging.

- :class:`Bundle`: the unit of deployment (model, feature plan, schema, goal, reference profile,
  metrics, lineage), saved as JSON + ``.npy`` with a SHA-256 per file; loading never unpickles.
- :class:`Registry`: a folder of content-addressed versions with aliases moved by compare-and-swap,
  gated promotion, rollback and an append-only audit log; safe with several writer processes.
- :class:`LiveModel`: follows a registry alias (or a bundle path) and swaps new versions in place.
- :func:`build_wheel`: static deployment, a wheel that contains a bundle (``mlcore package``).
"""

from .bundle import Bundle, data_hash
from .loader import LiveModel
from .package import build_wheel
from .registry import AliasConflict, ModelVersion, PromotionRefused, Registry, goal_gate

__all__ = ["Bundle", "data_hash", "Registry", "ModelVersion", "AliasConflict", "PromotionRefused", "goal_gate",
           "LiveModel", "build_wheel"]
