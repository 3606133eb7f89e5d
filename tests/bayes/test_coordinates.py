"""The Pareto/NBD sampling coordinates: an exact bijection with the right log-Jacobian and gradient."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pymc")
from clvlab.bayes._coordinates import SurvivalCoordinates

COORDS = SurvivalCoordinates(i_s=2, i_beta=3, horizon=32.7)


def _y_to_u(y: np.ndarray) -> np.ndarray:
    return COORDS.from_sampler(y)[0]


@pytest.mark.parametrize(
    "u",
    [
        np.log([0.55, 10.6, 0.61, 11.7]),  # CDNOW MLE
        np.log([0.55, 10.6, 14.0, 438.0]),  # far along the ridge
        np.log([0.55, 10.6, 0.05, 0.01]),  # tiny s and beta: k / s large
        np.log([0.55, 10.6, 50.0, 1e5]),  # nearly homogeneous dropout: k / s small
    ],
)
def test_round_trip_jacobian_and_gradient(u):
    y = COORDS.to_sampler(u)
    # y keeps every coordinate but ln beta, which becomes ln k = ln(s ln(1 + h / beta)) = ln(-ln S(h)).
    s, beta = np.exp(u[2]), np.exp(u[3])
    assert y[3] == pytest.approx(np.log(s * np.log1p(COORDS.horizon / beta)), rel=1e-12)
    np.testing.assert_array_equal(y[:3], u[:3])
    back, log_det, chain = COORDS.from_sampler(y)
    np.testing.assert_allclose(back, u, rtol=1e-10, atol=1e-10)
    # log |det du/dy| against a numerical Jacobian.
    eps = 1e-6
    jac = np.column_stack([(_y_to_u(y + eps * e) - _y_to_u(y - eps * e)) / (2 * eps) for e in np.eye(4)])
    assert log_det == pytest.approx(np.log(abs(np.linalg.det(jac))), abs=1e-6)

    # The chain rule for a density f(u): d/dy [f(u(y)) + log|det|] against central differences.
    def f(uu):
        return float(np.sin(uu).sum() + 0.3 * uu[2] * uu[3])

    def total(yy):
        uu, ld, _ = COORDS.from_sampler(yy)
        return f(uu) + ld

    grad_u = np.cos(back) + 0.3 * np.array([0.0, 0.0, back[3], back[2]])
    numeric = np.array([(total(y + eps * e) - total(y - eps * e)) / (2 * eps) for e in np.eye(4)])
    np.testing.assert_allclose(chain(grad_u), numeric, rtol=1e-6, atol=1e-6)


def test_horizon_must_be_positive():
    with pytest.raises(ValueError, match="horizon must be positive"):
        SurvivalCoordinates(0, 1, 0.0)
