"""The one-sided Smirnov survival function in exact rational arithmetic (small n only)."""

from fractions import Fraction
from math import comb, floor


def smirnov_sf_exact(n: int, x: Fraction) -> Fraction:
    """P(D+_n >= x) by the Birnbaum-Tingey series, every term an exact fraction."""
    total = Fraction(0)
    for j in range(floor(n * (1 - x)) + 1):
        a = x + Fraction(j, n)
        total += comb(n, j) * a ** (j - 1) * (1 - a) ** (n - j)
    return x * total
