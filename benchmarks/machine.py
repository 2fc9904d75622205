"""What the numbers were measured on: hardware, interpreter, library versions, date."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import sys

__all__ = ["describe_machine"]

# Environment variables that change how NumPy's BLAS (and so every timing) behaves.
_THREADING_ENV_PREFIXES = ("OPENBLAS", "OMP_", "MKL_", "BLIS_", "VECLIB_", "NUMEXPR_")


def describe_machine() -> dict:
    """A JSON-ready description of this machine and Python, taken now."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "gil_switch_interval_s": sys.getswitchinterval(),
        "versions": {name: _version(name) for name in ("numpy", "matplotlib", "scikit-learn")},
        "blas_env": {key: value for key, value in sorted(os.environ.items())
                     if key.startswith(_THREADING_ENV_PREFIXES)},
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "Processor"):
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
