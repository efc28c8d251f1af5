"""Group-sequential boundaries for `ftspec ab --sequential obrien-fleming`: Lan and DeMets' (1983) two-sided
alpha-spending function of O'Brien-Fleming shape, alpha(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t)), at the looks
actually taken (t: the share of the planned rows seen at each look).

Boundary c_k spends alpha(t_k) - alpha(t_{k-1}) at look k given the earlier boundaries. The crossing probabilities
come from the recursive numerical integration of Armitage, McPherson and Rowe: the score S = Z sqrt(t) is a
Brownian motion in t, so the density of S among the paths not yet stopped is carried from look to look by a
normal convolution on a grid (Simpson's rule), and c_k is found by root finding on it.
"""

from __future__ import annotations

import math

GRID = 401  # points across the continuation region (odd, for Simpson's rule)


def spent(t: float, alpha: float) -> float:
    """Alpha spent by information fraction t."""
    from scipy.stats import norm

    if t <= 0:
        return 0.0
    return float(2 - 2 * norm.cdf(norm.ppf(1 - alpha / 2) / math.sqrt(min(t, 1.0))))


def _simpson_weights(n: int, step: float):
    import numpy as np

    w = np.ones(n)
    w[1:-1:2], w[2:-1:2] = 4, 2
    return w * step / 3


def _crossing(c: float, grid, weights, sd: float, t: float, target: float = 0.0) -> float:
    """P(not stopped before, |Z| >= c now) - target: the carried density times the chance its increment leaves
    (-b, b)."""
    from scipy.stats import norm

    b = c * math.sqrt(t)
    return float(weights @ (norm.sf((b - grid) / sd) + norm.cdf((-b - grid) / sd))) - target


def obrien_fleming_boundaries(fractions: list[float], alpha: float) -> list[float]:
    """Two-sided z boundaries at increasing information fractions in (0, 1]."""
    import numpy as np
    from scipy.optimize import brentq
    from scipy.stats import norm

    ts = [min(1.0, float(t)) for t in fractions]
    bounds = [float(norm.isf(spent(ts[0], alpha) / 2))]
    half = bounds[0] * math.sqrt(ts[0])
    grid = np.linspace(-half, half, GRID)
    density = norm.pdf(grid, scale=math.sqrt(ts[0]))  # of S_1 on the paths that did not stop at look 1
    for k in range(1, len(ts)):
        delta = ts[k] - ts[k - 1]
        weights = density * _simpson_weights(GRID, grid[1] - grid[0])
        if delta <= 0:  # the same rows again: no new information, no new alpha to spend
            bounds.append(bounds[-1])
            continue
        sd = math.sqrt(delta)
        target = spent(ts[k], alpha) - spent(ts[k - 1], alpha)
        c = brentq(_crossing, 0.1, 40.0, args=(grid, weights, sd, ts[k], target), xtol=1e-9)
        bounds.append(float(c))
        half = c * math.sqrt(ts[k])
        new_grid = np.linspace(-half, half, GRID)
        density = norm.pdf((new_grid[:, None] - grid[None, :]) / sd) / sd @ weights
        grid = new_grid
    return bounds
