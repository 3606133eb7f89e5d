"""Test-only oracles: lifetimes 0.11.3, imported where it can be, skipped with the reason where not.

lifetimes is archived; on Python 3.12 and newer it imports only with setuptools < 81 (its datasets module
needs ``pkg_resources``), which the ``dev`` extra installs. Where it still cannot be imported, a test
that uses it as an oracle is skipped with the import error as its reason; no oracle value is dropped.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest


def lifetimes(name: str, module: str = "lifetimes") -> Any:
    """``getattr(import_module(module), name)``, or skip the calling test saying why."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        pytest.skip(f"oracle {module} cannot be imported here ({exc}); pip install 'setuptools<81'")
    return getattr(mod, name)
