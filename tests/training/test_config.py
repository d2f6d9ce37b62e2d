"""Experiment configs: numbers that pydantic would coerce are refused, naming the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import NewslabError
from training.config import load_experiment


def _config(tmp_path: Path, params: str, extra: str = "") -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(
        f"name: x\ntask: stance\ndataset: fnc1\nmodel: {{type: tfidf_lr, params: {{{params}}}}}\n{extra}"
    )
    return path


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ("C: true", "C: true is a boolean where a number is expected"),
        ("C: .inf", "C: inf is not a finite number"),
        ("alpha: .nan", "alpha: nan is not a finite number"),
        ("max_iter: false", "max_iter: false is a boolean"),
    ],
)
def test_booleans_and_non_finite_numbers_are_refused(tmp_path: Path, params: str, why: str) -> None:
    path = _config(tmp_path, params)
    with pytest.raises(NewslabError) as caught:
        load_experiment(path)
    assert str(path) in caught.value.message and "model.params" in caught.value.message
    assert why in caught.value.message


@pytest.mark.parametrize("extra", ["seed: true\n", "sweep: {space: {C: {low: 0.1, high: .inf}}}\n"])
def test_top_level_and_sweep_numbers_are_strict_too(tmp_path: Path, extra: str) -> None:
    with pytest.raises(NewslabError, match=r"boolean|finite"):
        load_experiment(_config(tmp_path, "C: 2", extra))


def test_booleans_where_booleans_belong_and_plain_numbers_pass(tmp_path: Path) -> None:
    config, _ = load_experiment(
        _config(tmp_path, "C: 2, char_ngrams: true, max_features: null, author: false")
    )
    assert config.model.params.C == 2.0 and config.model.params.char_ngrams is True
    assert config.with_params({"C": 0.5}).model.params.C == 0.5
    with pytest.raises(ValueError, match="C: true is a boolean"):  # a sweep's override: pydantic's error
        config.with_params({"C": True})
