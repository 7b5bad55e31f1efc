"""Stage 3, training: fit estimators on Arrow data, select a model, compile it to arrays + kernels.

- :func:`fit`: fit a scikit-learn (or LightGBM / XGBoost) estimator on feature columns of an
  Arrow table, without a pandas detour.
- :func:`select_model`: candidate estimators × hyper-parameter grids, cross-validation or a
  time-based split, ranked by a named metric; every candidate's scores are kept.
- :func:`compile_model`: a fitted estimator → mlcore's compiled model (:class:`CompiledLinear`,
  :class:`CompiledMLP`, tree ensembles), predicting with Numba kernels over Arrow buffers.
- :func:`load_model`: a compiled model back from its ``(manifest, arrays)``.
- :func:`compile_predictor`: a fitted feature plan + a compiled model as one
  :class:`FusedPredictor` (raw columns in, predictions out, one compiled pass per row block).
"""

from __future__ import annotations

from .compile import SUPPORTED_ESTIMATORS, compile_model, load_model
from .fit import fit
from .fused import FusedPredictor, compile_predictor
from .linear import CompiledLinear
from .mlp import CompiledMLP
from .select import SelectionResult, select_model
from .trees import TreeEnsemble

__all__ = [
    "fit",
    "select_model",
    "SelectionResult",
    "compile_model",
    "load_model",
    "SUPPORTED_ESTIMATORS",
    "CompiledLinear",
    "CompiledMLP",
    "TreeEnsemble",
    "compile_predictor",
    "FusedPredictor",
]
