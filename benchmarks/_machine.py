"""Describe the machine a benchmark ran on (printed with every result)."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Callable


def describe() -> str:
    """One line: CPU model, cores, memory, Python and key library versions."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    cpu = platform.processor() or "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"{cpu}; {os.cpu_count()} cores; {mem_gb:.0f} GB RAM; Python {platform.python_version()}; "
        f"pandas {pd.__version__}; numpy {np.__version__}; pyarrow {pa.__version__}"
    )


def peak_kb() -> int:
    """Peak resident memory of this process in kB: ``VmHWM`` of its own address space.

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries the high-water mark of the parent's
    address space across fork and exec, so a benchmark child of a parent that had generated its
    inputs in-process reported the parent's peak (572 MB for every method of one matrix run).
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Shortest wall time of ``repeat`` calls of ``fn`` (seconds)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
