"""CSR sparse output as Arrow buffers, convertible to scipy.sparse without a copy."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["CSRMatrix"]


class CSRMatrix:
    """A compressed-sparse-row matrix whose ``indptr``, ``indices`` and ``data`` are Arrow arrays.

    ``indptr`` and ``indices`` share one integer type (int32 while the matrix has fewer than 2**31
    stored values, else int64) so that :meth:`to_scipy` wraps the buffers without a copy.
    Column indices are sorted within a row; stored values may be 0.0 (signed hashing can cancel).

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.features import CSRMatrix
    >>> m = CSRMatrix.from_numpy(np.array([0, 1, 1]), np.array([2]), np.array([5.0]), shape=(2, 3))
    >>> m.to_scipy().toarray().tolist()
    [[0.0, 0.0, 5.0], [0.0, 0.0, 0.0]]
    """

    def __init__(self, indptr: pa.Array, indices: pa.Array, data: pa.Array, shape: tuple[int, int],
                 feature_names: list[str] | None = None):
        self.indptr = indptr
        self.indices = indices
        self.data = data
        self.shape = (int(shape[0]), int(shape[1]))
        self.feature_names = feature_names

    @classmethod
    def from_numpy(cls, indptr, indices, data, *, shape, feature_names=None) -> "CSRMatrix":
        nnz = int(indptr[-1]) if len(indptr) else 0
        itype = np.int32 if nnz < 2**31 - 1 and shape[1] < 2**31 - 1 else np.int64
        indptr = np.ascontiguousarray(indptr, dtype=itype)
        indices = np.ascontiguousarray(indices[:nnz], dtype=itype)
        data = np.ascontiguousarray(data[:nnz], dtype=np.float64)
        return cls(pa.array(indptr), pa.array(indices), pa.array(data), shape, feature_names)

    @property
    def nnz(self) -> int:
        return len(self.data)

    def buffers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indptr, indices, data) as read-only NumPy views of the Arrow buffers."""
        return (self.indptr.to_numpy(zero_copy_only=True), self.indices.to_numpy(zero_copy_only=True),
                self.data.to_numpy(zero_copy_only=True))

    def to_scipy(self):
        """A ``scipy.sparse.csr_matrix`` over the same buffers."""
        import scipy.sparse as sp

        indptr, indices, data = self.buffers()
        return sp.csr_matrix((data, indices, indptr), shape=self.shape, copy=False)

    def __repr__(self) -> str:
        return f"CSRMatrix(shape={self.shape}, nnz={self.nnz})"
