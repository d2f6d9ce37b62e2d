"""The model family registry: configs, builders, columns, skops trust and logging all read it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from pydantic import BaseModel, ConfigDict
from sklearn.dummy import DummyClassifier

from core.errors import NewslabError
from core.schema import load_schema
from training import flavours, registry
from training.config import ModelConfig, load_experiment
from training.models import build_model, input_columns
from training.runner import fit_model, predict_codes

ROOT = Path(__file__).parents[2]
FAMILIES = {"tfidf_lr", "tfidf_pair_lr", "gbdt", "gbdt_pair", "spacy_textcat"}


def test_every_family_is_registered_with_what_newslab_needs() -> None:
    assert set(registry.names()) == FAMILIES
    for name in registry.names():
        family = registry.get(name)
        params = family.params()
        assert family.name == name and "text" in family.columns(params)
        assert family.flavour in (flavours.SKLEARN, flavours.SPACY)
        assert family.requirements(params)
    assert registry.get("tfidf_pair_lr").columns(registry.get("tfidf_pair_lr").params()) == ["target", "text"]


def test_unknown_types_and_params_are_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text("name: x\ntask: stance\ndataset: fnc1\nmodel: {type: xgboost, params: {C: 1}}\n")
    with pytest.raises(NewslabError) as err:
        load_experiment(path)
    message = err.value.message
    assert "model.type" in message and "unknown model type 'xgboost'" in message
    assert all(name in message for name in FAMILIES) and "model.params" not in message
    path.write_text("name: x\ntask: stance\ndataset: fnc1\nmodel: {type: gbdt, params: {C: 1}}\n")
    with pytest.raises(NewslabError, match=r"model\.params\.C: Extra inputs are not permitted"):
        load_experiment(path)


def test_params_default_to_the_family_and_survive_a_dump() -> None:
    config = ModelConfig(type="gbdt_pair")
    assert type(config.params).__name__ == "GbdtParams"
    again = ModelConfig.model_validate(config.model_dump())
    assert again == config and config.model_dump()["params"]["svd_components"] == 100


def test_trusted_types_are_the_union_of_the_families_at_their_new_paths() -> None:
    trusted = registry.trusted_types()
    assert set(trusted) == {t for n in registry.names() for t in registry.get(n).trusted_types}
    assert "newslab_model.text_features.DedupTfidfVectorizer" in trusted
    assert "newslab_model.tuned.TunedBiasClassifier" in trusted
    assert "newslab_model.embeddings.SentenceEmbedder" in trusted
    assert not [t for t in trusted if t.startswith("training.features.")]


def test_a_logged_model_imports_no_newslab_module_when_it_predicts() -> None:
    """Every module of a trusted type imports without ``core`` (a model loads without newslab)."""
    modules = sorted({t.rsplit(".", 1)[0] for t in registry.trusted_types() if t.startswith("training.")})
    code = (
        "import sys\nsys.modules['core'] = None\n"  # importing core now fails
        + "".join(f"import {m}\n" for m in modules)
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


class MajorityParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    strategy: str = "most_frequent"


def test_a_new_family_is_one_registration(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a new family module does, here in a test: register, then configs and builders take it."""
    with registry.REGISTRY.scoped():
        _register_majority_and_use_it()
    assert "majority" not in registry.names()


def _register_majority_and_use_it() -> None:
    registry.register(
        registry.Family(
            name="majority",
            params=MajorityParams,
            build=lambda model, task, seed, lang: DummyClassifier(strategy=model.params.strategy),
            columns=lambda params: ["text"],
            flavour=flavours.SKLEARN,
            requirements=lambda params: flavours.SKLEARN_REQUIREMENTS,
        )
    )
    config = ModelConfig.model_validate({"type": "majority", "params": {"strategy": "prior"}})
    task = load_schema().task("stance")
    x = pd.DataFrame({"text": ["a", "b", "c"]})[input_columns(config)]
    model = fit_model(build_model(config, task, seed=0), x, ["favor", "favor", "against"], task)
    assert predict_codes(model, x, task) == ["favor"] * 3
    with pytest.raises(ValueError, match="strategy"):
        ModelConfig.model_validate({"type": "majority", "params": {"strategy": 1}})
