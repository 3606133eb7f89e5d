"""Timing and memory helpers shared by the benchmark scripts."""

from __future__ import annotations

import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def machine() -> str:
    """One line describing the machine and the library versions."""
    import numpy
    import pandas
    import scipy

    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.system()} {platform.machine()} ({cpu}), {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, numpy {numpy.__version__}, scipy {scipy.__version__}, "
        f"pandas {pandas.__version__}"
    )


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float], Any]:
    """Run ``fn`` ``repeats`` times; return the median wall time, all times and the last result."""
    times = []
    result = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def peak_memory(fn: Callable[[], Any]) -> float:
    """Peak memory (bytes) allocated by Python and numpy while ``fn`` runs (tracemalloc)."""
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return float(peak)


def row(name: str, ours: float, peer: float, unit: str = "s") -> str:
    """A markdown table row: clvlab time, peer time and the speed-up ratio."""
    return f"| {name} | {ours:.3f} {unit} | {peer:.3f} {unit} | {peer / ours:.1f}x |"


#: Rows recorded by the benchmarks of this process (see :func:`record`), for the results table.
RESULTS: list[dict[str, str]] = []


def record(benchmark: str, size: str, ours: str, peer: str, ratio: str, target: str, command: str) -> None:
    """Add one row to the results table that ``python -m benchmarks`` writes to benchmarks/README.md."""
    RESULTS.append(
        {
            "benchmark": benchmark,
            "size": size,
            "clvlab": ours,
            "peer": peer,
            "ratio": ratio,
            "target": target,
            "command": f"`{command}`",
        }
    )


def results_table(rows: list[dict[str, str]]) -> str:
    """The recorded rows as a markdown table."""
    head = ["benchmark", "size", "clvlab", "peer", "ratio", "target", "command"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r[h] for h in head) + " |" for r in rows]
    return "\n".join(lines)


def max_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB).

    Linux's ``VmHWM`` (reset when a program is exec'd), not ``getrusage``'s ``ru_maxrss``, which a
    process started by a large parent inherits across ``fork`` and ``exec``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
