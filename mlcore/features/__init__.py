"""Stage 2, feature engineering: fitted transforms over Arrow, combined into a saved plan.

Every transform takes its input ``columns`` and keyword-only options, has ``fit``/``transform``
(scikit-learn names; fitted state ends in ``_`` and is plain arrays + JSON) and writes its output
through Numba kernels over the Arrow buffers. :class:`FeaturePlan` applies transforms to columns,
saves and loads as JSON + arrays, describes itself, and outputs a float64 Arrow table (NumPy view
with :func:`as_matrix`) or, with a text step, a :class:`CSRMatrix`.
"""

from .binning import KBinsDiscretizer
from .combine import Combine
from .encoders import CategoryCross, FrequencyEncoder, OneHotEncoder, OrdinalEncoder
from .missing import MissingIndicator
from .plan import KINDS, FeaturePlan, as_matrix
from .power import LogTransformer, PowerTransformer
from .scalers import MinMaxScaler, Passthrough, RobustScaler, StandardScaler
from .selection import CorrelationFilter, MutualInfoSelector, VarianceThreshold
from .sparse import CSRMatrix
from .target import TargetEncoder
from .temporal import DateTimeParts
from .text import CountVectorizer, HashingVectorizer, TfidfVectorizer

__all__ = [
    "FeaturePlan", "KINDS", "as_matrix", "CSRMatrix",
    "StandardScaler", "MinMaxScaler", "RobustScaler", "Passthrough",
    "LogTransformer", "PowerTransformer", "KBinsDiscretizer",
    "OneHotEncoder", "OrdinalEncoder", "FrequencyEncoder", "TargetEncoder",
    "MissingIndicator", "DateTimeParts", "Combine", "CategoryCross",
    "VarianceThreshold", "CorrelationFilter", "MutualInfoSelector",
    "HashingVectorizer", "CountVectorizer", "TfidfVectorizer",
]
