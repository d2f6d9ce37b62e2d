"""Run provenance: versions, threads, hardware and seeds as small flat ``env.*`` params."""

from __future__ import annotations

import pytest

from core.provenance import MAX_VALUE, environment


def test_environment_is_flat_small_and_names_what_a_result_depends_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    env = environment({"seed": 13, "sentence_match": 13})
    assert all(k.startswith("env.") and isinstance(v, str) and len(v) <= MAX_VALUE for k, v in env.items())
    assert len(env) < 40  # a handful of params, not a dump
    for key in ("python", "numpy", "scipy", "scikit-learn", "spacy", "thinc", "mlflow", "datasets"):
        assert env[f"env.version.{key}"]
    assert env["env.threads.OMP_NUM_THREADS"] == "2" and env["env.threads.MKL_NUM_THREADS"] == "unset"
    assert "env.threads.threadpools" in env
    assert env["env.hw.cpu"] and int(env["env.hw.cpu_count"]) >= int(env["env.hw.cpu_usable"]) >= 1
    assert float(env["env.hw.memory_gib"]) > 0
    assert env["env.seed.seed"] == "13" and env["env.seed.sentence_match"] == "13"


def test_torch_is_read_only_when_the_run_loaded_it() -> None:
    import sys

    env = environment()
    assert ("env.threads.torch_threads" in env) == ("torch" in sys.modules)
    assert ("env.hw.gpu" in env) == ("torch" in sys.modules)
