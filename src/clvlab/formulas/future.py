"""Simulation of a customer's own future purchases and spend, given draws of their latent traits.

The predictive (not parameter) uncertainty of a customer's future value: given one draw of each
customer's purchase rate ``lambda``, drop-out mechanism and spend per purchase (drawn from their
individual posterior by the model's ``sample_future_latent`` and Gamma-Gamma's ``sample_spend_rate``),
purchases after ``T`` arrive as a Poisson process at rate ``lambda`` (exponential gaps) until the customer
drops out or the horizon ends. Two drop-out mechanisms cover the continuous-time models:

- after each purchase, with probability ``p_drop`` (BG/NBD, MBG/NBD; Fader, Hardie & Lee 2005, section 3);
- at the end of an exponential ``lifetime`` (Pareto/NBD; Schmittlein, Morrison & Colombo 1987).

A customer already gone at ``T`` has ``lifetime = 0``. Each purchase's value is ``Gamma(shape, rate)``
(Gamma-Gamma: shape ``p``, rate the customer's ``nu``), discounted at the moment it happens. Pure NumPy,
vectorised over all elements at once and looping over purchase number only (the work is the number of
simulated purchases).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from clvlab._types import FloatArray

__all__ = ["simulate_future_value"]


def simulate_future_value(
    lam: FloatArray,
    p_drop: FloatArray,
    lifetime: FloatArray,
    spend_shape: FloatArray,
    spend_rate: FloatArray,
    horizon: float,
    discount: Callable[[FloatArray], FloatArray],
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """Purchases in ``(T, T + horizon]`` and their discounted value, one simulated future per element.

    Parameters
    ----------
    lam : numpy.ndarray
        Purchase rate per time unit of each element (customer x draw), flat.
    p_drop : numpy.ndarray
        Probability of dropping out right after each purchase (0 for the Pareto/NBD).
    lifetime : numpy.ndarray
        Remaining lifetime after ``T`` (``inf`` where drop-out follows purchases only; 0 where the customer
        is already gone).
    spend_shape, spend_rate : numpy.ndarray
        Gamma shape and rate of each purchase's value (rate ``inf`` with shape 1 gives value 0: counts
        only).
    horizon : float
        Length of the future period (finite; an infinite horizon is truncated by the caller where the
        discount factor is negligible).
    discount : callable
        Discount factor of a purchase at time ``tau`` after ``T`` (e.g. ``exp(-delta tau)``).
    rng : numpy.random.Generator
        Random generator.

    Returns
    -------
    count, value : numpy.ndarray
        Number of purchases and their discounted total value per element.
    """
    n = len(lam)
    count = np.zeros(n)
    value = np.zeros(n)
    end = np.minimum(lifetime, horizon)
    tau = np.zeros(n)
    active = np.flatnonzero((end > 0) & (lam > 0))
    while active.size:
        tau_a = tau[active] + rng.standard_exponential(active.size) / lam[active]
        bought = tau_a <= end[active]
        active, tau_a = active[bought], tau_a[bought]
        if not active.size:
            break
        tau[active] = tau_a
        count[active] += 1.0
        spend = rng.gamma(spend_shape[active]) / spend_rate[active]
        value[active] += spend * discount(tau_a)
        stays = rng.random(active.size) >= p_drop[active]
        active = active[stays]
    return count, value
