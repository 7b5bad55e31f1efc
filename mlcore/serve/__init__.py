"""Stage 6, serving: in process, over HTTP (Open Inference Protocol), and in batch into a store.

- :class:`Predictor`: a thread-safe in-process predictor over a bundle (batch and single row).
- :class:`InferenceApp`, :func:`served_model`, :func:`run`: the OIP (KServe V2) REST server with
  adaptive micro-batching, hot swap, a prediction log and Prometheus metrics (``mlcore serve``).
- :func:`score`: resumable batch scoring into Parquet, DuckDB or PostgreSQL, locally or on Ray
  (``mlcore score``).
"""

from .app import InferenceApp, ServedModel
from .batch import ScoreResult, score
from .predictor import Predictor, served_model
from .server import ServerThread, run

__all__ = ["Predictor", "InferenceApp", "ServedModel", "served_model", "run", "ServerThread", "score",
           "ScoreResult"]
