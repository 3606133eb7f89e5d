"""The examples in clvlab's docstrings run and print what they say (doctest)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import clvlab

# The Bayesian namespace needs PyMC and its examples sample; the CLI's main() parses sys.argv.
SKIP = ("clvlab.bayes", "clvlab.__main__")


def _modules(path: list[str], prefix: str) -> list[str]:
    """Module names under ``path``, without importing the skipped packages (``walk_packages`` would)."""
    names = []
    for info in pkgutil.iter_modules(path, prefix):
        if info.name.startswith(SKIP):
            continue
        names.append(info.name)
        if info.ispkg:
            package = importlib.import_module(info.name)
            names += _modules(list(package.__path__), info.name + ".")
    return names


MODULES = sorted(_modules(list(clvlab.__path__), "clvlab."))
assert "clvlab.data.summary" in MODULES  # the walk reaches subpackages


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (see the output above)"
