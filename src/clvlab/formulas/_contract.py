"""The formula-module contract: what a model's formula module provides, as typed protocols.

A formula module (:mod:`clvlab.formulas.bgnbd`, ``mbgnbd``, ``pareto_nbd``, ``bgbb``, ``gamma_gamma``) is a
plain module of vectorised functions taking the model's parameters first, then the data, broadcasting over a
leading draws axis. The estimators (:mod:`clvlab.models`), the Bayesian models and the consumers call them
through these protocols: the required ones every module of its kind satisfies, and the optional ones a
module satisfies when it has the capability, checked with ``isinstance`` (the protocols are
``runtime_checkable``, and a module is an instance of a protocol when it has every member).

======================  ==========================================================  ==========================
protocol                members                                                     modules
======================  ==========================================================  ==========================
LikelihoodFormulas      loglik, loglik_and_grad, loglik_grad, simulate              all
TransactionFormulas     + p_alive, expected_purchases, conditional_expected_        bgnbd, mbgnbd, pareto_nbd,
                        purchases, conditional_expected_purchases_and_p_alive,      bgbb
                        purchase_count_pmf
SpendFormulas           + expected_spend, conditional_expected_spend                gamma_gamma
ConditionalPmfFormulas  conditional_purchase_pmf, conditional_purchase_pmf_if_alive  bgnbd, mbgnbd,
                                                                                    pareto_nbd, bgbb
IfAliveFormulas         expected_purchases_if_alive                                 bgnbd, mbgnbd, pareto_nbd
FutureFormulas          sample_future_latent (a draw from a customer's individual   bgnbd, mbgnbd, pareto_nbd
                        posterior, for predictive simulation)
SpendSamplingFormulas   sample_spend_rate (a draw of a customer's spend rate)       gamma_gamma
DertFormulas            dert (discounted expected residual transactions)            pareto_nbd
FastFitFormulas         prepare_fit, fit_loglik_and_grad (grouped maximum           bgnbd, mbgnbd
                        likelihood)
======================  ==========================================================  ==========================

The argument lists differ per model (three or four parameters, two or three data columns), so the members
are declared with ``*args``: the protocols pin down names and return types, and ``tests/formulas/
test_contract.py`` checks every module against them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from clvlab._types import FloatArray

__all__ = [
    "ConditionalPmfFormulas",
    "DertFormulas",
    "FastFitFormulas",
    "FutureFormulas",
    "IfAliveFormulas",
    "LikelihoodFormulas",
    "SpendFormulas",
    "SpendSamplingFormulas",
    "TransactionFormulas",
]


@runtime_checkable
class LikelihoodFormulas(Protocol):
    """Every formula module: the log-likelihood, its gradient and simulation."""

    def loglik(self, *args: Any, **kwargs: Any) -> FloatArray:
        """Per-customer log-likelihood."""
        ...

    def loglik_and_grad(self, *args: Any, **kwargs: Any) -> tuple[FloatArray, tuple[FloatArray, ...]]:
        """Per-customer log-likelihood and its gradient with respect to each parameter."""
        ...

    def loglik_grad(self, *args: Any, **kwargs: Any) -> tuple[FloatArray, ...]:
        """Per-customer gradient of the log-likelihood."""
        ...

    def simulate(self, *args: Any, **kwargs: Any) -> Any:
        """Simulated customers (the model's data columns) from the parameters and a generator."""
        ...


@runtime_checkable
class TransactionFormulas(LikelihoodFormulas, Protocol):
    """A purchase-and-drop-out model (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB)."""

    def p_alive(self, *args: Any, **kwargs: Any) -> FloatArray:
        """P(alive at T | history)."""
        ...

    def expected_purchases(self, *args: Any, **kwargs: Any) -> FloatArray:
        """E[X(t)] for a new customer."""
        ...

    def conditional_expected_purchases(self, *args: Any, **kwargs: Any) -> FloatArray:
        """E[X(T, T + t) | history]."""
        ...

    def conditional_expected_purchases_and_p_alive(
        self, *args: Any, **kwargs: Any
    ) -> tuple[FloatArray, FloatArray]:
        """E[X(T, T + t) | history] and P(alive | history) in one pass."""
        ...

    def purchase_count_pmf(self, *args: Any, **kwargs: Any) -> FloatArray:
        """P(X(t) = n) for a new customer."""
        ...


@runtime_checkable
class SpendFormulas(LikelihoodFormulas, Protocol):
    """A spend-per-purchase model (Gamma-Gamma)."""

    def expected_spend(self, *args: Any, **kwargs: Any) -> FloatArray:
        """Population mean spend per purchase."""
        ...

    def conditional_expected_spend(self, *args: Any, **kwargs: Any) -> FloatArray:
        """Expected spend per purchase given a customer's purchases and mean spend."""
        ...


@runtime_checkable
class ConditionalPmfFormulas(Protocol):
    """Optional: P(X(T, T + t) = n | history)."""

    def conditional_purchase_pmf(self, *args: Any, **kwargs: Any) -> FloatArray:
        """P(X(T, T + t) = n | history)."""
        ...

    def conditional_purchase_pmf_if_alive(self, *args: Any, **kwargs: Any) -> FloatArray:
        """P(X(T, T + t) = n | x, T, alive at T), the pmf's factor in (x, T) alone."""
        ...


@runtime_checkable
class IfAliveFormulas(Protocol):
    """Optional: the conditional expectation's factor in (x, T) alone, E[X(T, T + t) | alive at T]."""

    def expected_purchases_if_alive(self, *args: Any, **kwargs: Any) -> FloatArray:
        """E[X(T, T + t) | x, T, alive at T]."""
        ...


@runtime_checkable
class FutureFormulas(Protocol):
    """Optional: draws of a customer's latent traits given the history, for predictive simulation."""

    def sample_future_latent(self, *args: Any, **kwargs: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Purchase rate, drop-out probability per purchase and remaining lifetime after ``T``."""
        ...


@runtime_checkable
class SpendSamplingFormulas(Protocol):
    """Optional: a draw of a customer's spend distribution given their history."""

    def sample_spend_rate(self, *args: Any, **kwargs: Any) -> tuple[FloatArray, FloatArray]:
        """Gamma shape and rate of each future transaction's value."""
        ...


@runtime_checkable
class DertFormulas(Protocol):
    """Optional: discounted expected residual transactions in closed form (continuous discounting)."""

    def dert(self, *args: Any, **kwargs: Any) -> FloatArray:
        """Discounted expected residual transactions given the history."""
        ...


@runtime_checkable
class FastFitFormulas(Protocol):
    """Optional: a grouped weighted log-likelihood for maximum likelihood, prepared once per fit."""

    def prepare_fit(self, *args: Any, **kwargs: Any) -> Any:
        """Group the de-duplicated rows (data columns, then weights) once per fit."""
        ...

    def fit_loglik_and_grad(self, *args: Any, **kwargs: Any) -> tuple[float, FloatArray]:
        """Weighted total log-likelihood and gradient at the parameters, over the prepared data."""
        ...


if TYPE_CHECKING:  # mypy checks the modules against the protocols; no runtime import (no cycle)
    from clvlab.formulas import bgbb, bgnbd, gamma_gamma, mbgnbd, pareto_nbd

    _transaction: tuple[TransactionFormulas, ...] = (bgnbd, mbgnbd, pareto_nbd, bgbb)
    _spend: SpendFormulas = gamma_gamma
    _pmf: tuple[ConditionalPmfFormulas, ...] = (bgnbd, mbgnbd, pareto_nbd, bgbb)
    _if_alive: tuple[IfAliveFormulas, ...] = (bgnbd, mbgnbd, pareto_nbd)
    _future: tuple[FutureFormulas, ...] = (bgnbd, mbgnbd, pareto_nbd)
    _spend_sampling: SpendSamplingFormulas = gamma_gamma
    _dert: DertFormulas = pareto_nbd
    _fast_fit: tuple[FastFitFormulas, ...] = (bgnbd, mbgnbd)
