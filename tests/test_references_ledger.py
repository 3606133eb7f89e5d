"""The reference ledger (tests/references.md) and the citations of it agree.

Every ``[ID]`` cited in a test, a ``src/clvlab`` docstring or a benchmark must be an entry of the ledger,
every ledger entry must be cited by at least one test, and no comment may point to the old, external
reference list any more.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LEDGER = ROOT / "tests" / "references.md"
# An ID is upper-case words joined by hyphens, e.g. BGNBD-LL-CDNOW, written in square brackets.
ID = r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+"
ENTRY = re.compile(rf"^### \[({ID})\]\s*$", re.MULTILINE)
CITED = re.compile(rf"\[({ID})\]")
OLD_NAME = "REFERENCES" + ".md"  # spelled apart so that this file does not match a grep for it


def ledger_ids() -> list[str]:
    return ENTRY.findall(LEDGER.read_text(encoding="utf-8"))


def citations(*roots: str) -> dict[str, set[str]]:
    """ID -> the files (relative paths) that cite it, over the ``.py`` files under ``roots``."""
    found: dict[str, set[str]] = {}
    for root in roots:
        for path in sorted((ROOT / root).rglob("*.py")):
            if path == Path(__file__).resolve():
                continue
            for cid in CITED.findall(path.read_text(encoding="utf-8")):
                found.setdefault(cid, set()).add(str(path.relative_to(ROOT)))
    return found


def test_ledger_has_unique_entries():
    ids = ledger_ids()
    assert len(ids) >= 20, "the ledger's entry headings ('### [ID]') were not found"
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"ledger entries defined twice: {duplicates}"


@pytest.mark.parametrize("roots", [("tests",), ("src", "benchmarks")])
def test_every_cited_id_is_a_ledger_entry(roots):
    known = set(ledger_ids())
    missing = {cid: sorted(files) for cid, files in citations(*roots).items() if cid not in known}
    assert not missing, f"cited but not in tests/references.md: {missing}"


def test_every_ledger_entry_is_cited_by_a_test():
    cited = citations("tests")
    uncited = [i for i in ledger_ids() if i not in cited]
    assert not uncited, f"ledger entries no test cites: {uncited}"


def test_ledger_ids_in_the_ledger_text_exist():
    # Cross-references inside the ledger (e.g. "see [BGNBD-MLE-CDNOW]") must name entries too.
    known = set(ledger_ids())
    text = LEDGER.read_text(encoding="utf-8")
    dangling = sorted(set(CITED.findall(text)) - known)
    assert not dangling, f"the ledger refers to entries it does not define: {dangling}"


def test_no_citation_of_the_external_reference_list():
    stale = [
        f"{path.relative_to(ROOT)}:{n}"
        for root in ("tests", "src", "benchmarks")
        for path in sorted((ROOT / root).rglob("*"))
        if path.is_file() and path.suffix in {".py", ".md"} and path != LEDGER
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OLD_NAME in line
    ]
    assert not stale, f"comments still cite {OLD_NAME}, which is not in the repository: {stale}"


def test_every_pointer_to_the_ledger_names_an_entry():
    # A comment that sends the reader to the ledger must say which entry.
    vague = [
        f"{path.relative_to(ROOT)}:{n}"
        for root in ("tests", "src", "benchmarks")
        for path in sorted((ROOT / root).rglob("*.py"))
        if path != Path(__file__).resolve()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "references.md" in line and not CITED.search(line)
    ]
    assert not vague, f"lines citing tests/references.md without an [ID]: {vague}"
