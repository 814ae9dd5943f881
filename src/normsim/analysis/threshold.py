"""Threshold cascades from result tables: the cascade window and Watts's cascade condition.

:func:`window_table` gives, for each cell of two swept parameters (Watts's mean degree z
and threshold phi), P(global cascade) with its 95% Wilson interval and the mean size of
the global cascades; :func:`cascade_condition` is the analytic side (Watts 2002, eq. 3),
whose zero contour bounds the window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import poisson

from normsim.analysis.intervals import wilson_interval


def window_table(
    runs: pd.DataFrame,
    x: str,
    y: str,
    *,
    outcome: str = "cascade_reached",
    size: str = "final_adopter_share",
) -> pd.DataFrame:
    """Per cell of parameters ``x`` and ``y`` (averaged over any others): cascades and sizes.

    Args:
        runs: the runs table of a sweep (``x``, ``y``, ``outcome``, ``size``).
        x: the parameter on the horizontal axis (e.g. mean degree).
        y: the parameter on the vertical axis (e.g. threshold).
        outcome: the per-run event (a global cascade).
        size: the per-run final size.

    Returns:
        One row per (x, y), sorted by both: ``n`` (runs), ``k`` (cascades), ``p``, ``lo``,
        ``hi`` (95% Wilson interval), ``cascade_size`` (mean ``size`` of the runs that
        cascaded; NaN where none did) and ``mean_size`` (mean ``size`` of all runs).
    """
    flags = runs[outcome].astype(bool)
    sizes = runs[size].astype(float)
    frame = pd.DataFrame(
        {x: runs[x].astype(float), y: runs[y].astype(float), "flag": flags, "size": sizes,
         "cascade": sizes.where(flags)}
    )
    grouped = frame.groupby([x, y], sort=True)
    table = pd.DataFrame(
        {
            "n": grouped.size(),
            "k": grouped["flag"].sum().astype(int),
            "cascade_size": grouped["cascade"].mean(),
            "mean_size": grouped["size"].mean(),
        }
    ).reset_index()
    table.insert(4, "p", table.k / table.n)
    bounds = [wilson_interval(int(k), int(n)) for k, n in zip(table.k, table.n, strict=True)]
    lo, hi = zip(*bounds, strict=True) if bounds else ((), ())
    table.insert(5, "lo", list(lo))
    table.insert(6, "hi", list(hi))
    return table


def cascade_condition(z: np.ndarray | float, phi: np.ndarray | float) -> np.ndarray:
    """Watts's cascade condition on Poisson (Erdős–Rényi) graphs, uniform threshold phi.

    A node of degree k is vulnerable (one adopting neighbour tips it) when ``1/k >= phi``;
    the vulnerable nodes percolate, and one seed can start a global cascade, where
    ``sum_k k (k - 1) rho_k p_k > z`` (Watts 2002, eq. 3; ``p_k`` Poisson with mean z,
    ``rho_k`` 1 for vulnerable degrees). The comparison ``1/k >= phi`` is made in float64,
    as the engine decides ``k / degree >= phi``.

    Args:
        z: mean degrees (broadcast against ``phi``).
        phi: fractional thresholds in (0, 1].

    Returns:
        ``sum_k k (k - 1) rho_k p_k - z``: positive inside the window, negative outside;
        its zero contour is the window's boundary.
    """
    z, phi = np.broadcast_arrays(np.asarray(z, dtype=float), np.asarray(phi, dtype=float))
    top = int(np.floor(1.0 / max(float(np.min(phi)), 1e-3))) + 1
    k = np.arange(2, top + 1, dtype=float)
    vulnerable = (1.0 / k) >= phi[..., None]
    terms = k * (k - 1) * poisson.pmf(k, z[..., None]) * vulnerable
    return terms.sum(axis=-1) - z
