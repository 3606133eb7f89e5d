"""The examples in clvlab's docstrings run and print what they say (doctest)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import clvlab

# The Bayesian namespace needs PyMC and its examples sample; the CLI's main() parses sys.argv.
SKIP = ("clvlab.bayes", "clvlab.__main__")
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(clvlab.__path__, "clvlab.") if not m.name.startswith(SKIP)
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (see the output above)"
