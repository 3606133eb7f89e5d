"""Every formula module satisfies the protocols of clvlab.formulas._contract (names, and callables)."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

from clvlab.formulas import _contract, bgbb, bgnbd, gamma_gamma, mbgnbd, pareto_nbd

# protocol -> the modules that must satisfy it (the optional ones: exactly these modules)
SATISFIES: dict[type, tuple[ModuleType, ...]] = {
    _contract.LikelihoodFormulas: (bgnbd, mbgnbd, pareto_nbd, bgbb, gamma_gamma),
    _contract.TransactionFormulas: (bgnbd, mbgnbd, pareto_nbd, bgbb),
    _contract.SpendFormulas: (gamma_gamma,),
    _contract.ConditionalPmfFormulas: (bgnbd, mbgnbd, pareto_nbd, bgbb),
    _contract.IfAliveFormulas: (bgnbd, mbgnbd, pareto_nbd),
    _contract.FutureFormulas: (bgnbd, mbgnbd, pareto_nbd),
    _contract.SpendSamplingFormulas: (gamma_gamma,),
    _contract.DertFormulas: (pareto_nbd,),
    _contract.FastFitFormulas: (bgnbd, mbgnbd),
}
MODULES = (bgnbd, mbgnbd, pareto_nbd, bgbb, gamma_gamma)


def members(protocol: type) -> set[str]:
    """The names a protocol requires (its own and inherited functions)."""
    return {
        name
        for klass in protocol.__mro__
        if getattr(klass, "_is_protocol", False) and klass is not object
        for name, value in vars(klass).items()
        if inspect.isfunction(value) and not name.startswith("_")
    }


def test_protocols_declare_the_expected_members() -> None:
    assert members(_contract.LikelihoodFormulas) == {"loglik", "loglik_and_grad", "loglik_grad", "simulate"}
    assert members(_contract.TransactionFormulas) >= {
        "p_alive",
        "expected_purchases",
        "conditional_expected_purchases",
        "conditional_expected_purchases_and_p_alive",
        "purchase_count_pmf",
        "loglik_and_grad",
    }
    assert members(_contract.FastFitFormulas) == {"prepare_fit", "fit_loglik_and_grad"}


@pytest.mark.parametrize("protocol", list(SATISFIES), ids=lambda p: p.__name__)
@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_module_satisfies_its_protocols(protocol: type, module: ModuleType) -> None:
    required = members(protocol)
    has_all = all(callable(getattr(module, name, None)) for name in required)
    if module in SATISFIES[protocol]:
        missing = sorted(n for n in required if not callable(getattr(module, n, None)))
        assert not missing, f"{module.__name__} lacks {missing} of {protocol.__name__}"
        assert isinstance(module, protocol)
        # public: listed in the module's __all__ (mypy checks a module against a protocol by its exports)
        assert required <= set(module.__all__)
    else:
        # an optional capability is claimed by exactly the modules listed, so the typed checks route right
        assert not has_all
        assert not isinstance(module, protocol)


def test_a_missing_or_non_callable_member_fails_the_check() -> None:
    fake = ModuleType("fake_formulas")
    for name in members(_contract.FastFitFormulas):
        setattr(fake, name, lambda *args: None)
    assert isinstance(fake, _contract.FastFitFormulas)
    fake.fit_loglik_and_grad = 1.0  # type: ignore[attr-defined]
    assert not callable(fake.fit_loglik_and_grad)
    del fake.prepare_fit  # type: ignore[attr-defined]
    assert not isinstance(fake, _contract.FastFitFormulas)
