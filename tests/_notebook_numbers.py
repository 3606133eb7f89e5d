"""Numbers quoted in a notebook's text must be numbers its cells print.

The convention: every number in a markdown cell is a claim about the data or a model, and must be found
among the outputs of the notebook's code cells (text and HTML output, and printed streams), at the
precision quoted: "13.8%" matches a printed 0.1383 or 13.83, "1,882" a printed 1882.0, "0.64" a
printed 0.6397. Signs are ignored ("12.1% short" quotes a printed -0.121). A figure worth quoting is
printed by the cell that computes it, so that re-executing the notebook re-checks the text.

Not claims, and so not checked:

- what is not prose: inline code and code blocks (arguments such as ``interval=0.9``), link targets and
  addresses, section numbers of headings and ordered-list markers;
- calendar references: ISO dates, days of a named month ("30 September"), four-digit years 1900-2099
  (written without a thousands separator; counts are written with one, "2,357");
- pointers into the literature: the number after "eq.", "figure", "table", "section", "step", "p.";
- a notebook's explicit ``ALLOWED`` entries (in ``tests/test_notebooks.py``), each with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_NOT_PROSE = [
    re.compile(r"```.*?```", re.S),
    re.compile(r"`[^`]*`"),
    re.compile(r"\]\([^)]*\)"),
    re.compile(r"https?://\S+"),
    re.compile(r"\b\d{4}-\d{2}(?:-\d{2})?\b"),
    re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\b"),
    re.compile(rf"\b(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?!,\d)"),
    re.compile(r"^\s*#+\s*\d+(?:\.\d+)*\.?", re.M),
    re.compile(r"^\s*\d+\.\s", re.M),
    re.compile(
        r"\b(?:eq|eqs|equation|equations|figure|fig|table|section|sections|step|chapter|p|pp|appendix)\.?"
        r"\s+\(?\d+[a-z]?\)?(?:\s*(?:and|,|-|\u2013)\s*\d+)*",
        re.I,
    ),
]
#: A quoted number: optional currency, digits with or without thousands separators, decimals, exponent,
#: percent, or thousands / millions ("$60k", "£1.60m"); not part of a word, an identifier or a longer
#: number ("H2", "v1.2.3"); a sign is ignored.
_QUOTED = re.compile(
    r"(?<![\w.,/])[$£€]?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(e[-+]?\d+)?(%?)([km]?)(?![\w]|[.,]\d)", re.I
)
_SCALE = {"": 1.0, "k": 1e3, "m": 1e6}
_PRINTED = re.compile(r"\d+(?:,\d{3})*(?:\.(\d+))?(?:[eE]([-+]?\d+))?")


def _precision(fraction: str | None, exponent: str | None) -> int:
    """Decimal places of a number written with ``fraction`` digits and ``exponent``: 1.2e-11 has 12."""
    return len(fraction or "") - int(exponent or 0)


def quoted_numbers(markdown: str) -> list[str]:
    """The numbers a markdown text quotes as claims, as written (see the module docstring)."""
    text = markdown
    for pattern in _NOT_PROSE:
        text = pattern.sub(" ", text)
    found = []
    for m in _QUOTED.finditer(text):
        digits, rest = m.group(1), "".join(g or "" for g in m.group(2, 3, 4, 5))
        plain = not rest and "," not in digits and m.group(0)[0] not in "$£€"
        if plain and len(digits) == 4 and 1900 <= int(digits) <= 2099:
            continue
        found.append(m.group(0))
    return found


def printed_numbers(outputs: Iterable[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Every number in the text, HTML and stream outputs of code cells: absolute values and the half
    unit of their last printed digit (how far the value behind the print may be from it)."""
    values, half_units = [], []
    for out in outputs:
        texts = [out.get("text", "")]
        data = out.get("data", {})
        texts += [data.get(kind, "") for kind in ("text/plain", "text/html", "text/markdown")]
        for text in texts:
            text = "".join(text) if isinstance(text, list) else str(text)
            for m in _PRINTED.finditer(text):
                values.append(float(m.group(0).replace(",", "")))
                half_units.append(0.5 * 10.0 ** -_precision(m.group(1), m.group(2)))
    return np.array(values), np.array(half_units)


def unprinted_quotes(nb: Any, allowed: Iterable[str] = ()) -> list[tuple[int, str]]:
    """(markdown cell index, quote) for each quoted number that no code cell of ``nb`` prints.

    ``nb`` is an executed notebook (nbformat node or dict); ``allowed`` the quotes that are not results.
    A quote matches a printed number when the two can be roundings of one value: they differ by at most
    half a unit of the quote's last digit plus half a unit of the print's ("86.98" matches a printed
    86.975); a percentage matches a printed share too ("13.8%" matches 0.1383).
    """
    cells = nb["cells"]
    values, half_units = printed_numbers(
        out for cell in cells if cell["cell_type"] == "code" for out in cell.get("outputs", [])
    )
    skip = set(allowed)
    missing = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for quote in quoted_numbers(source):
            if quote in skip:
                continue
            m = _QUOTED.fullmatch(quote)
            assert m is not None
            scale = _SCALE[m.group(5).lower()]
            value = scale * float(m.group(1).replace(",", "") + (m.group(2) or "") + (m.group(3) or ""))
            half = scale * 0.5 * 10.0 ** -_precision((m.group(2) or ".")[1:], (m.group(3) or "e0")[1:])
            slack = 1e-9 * max(value, 1.0)
            ok = np.any(np.abs(values - value) <= half + half_units + slack)
            if m.group(4):
                ok = ok or np.any(np.abs(100.0 * values - value) <= half + 100.0 * half_units + slack)
            if not ok:
                missing.append((i, quote))
    return missing
