"""Loading a logged model trusts newslab's code, not the model: tampered models are refused."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from core import tracking
from core.errors import NewslabError
from core.settings import PROJECT_DIR, Settings
from training import flavours
from training.loading import load_model
from training.text_features import DedupTfidfVectorizer

TEXTS = pd.DataFrame(
    {"text": ["troops shelled the city", "leaders signed a deal", "army attacked", "talks went well"]}
)
GOLD = ["conflict", "cooperation", "conflict", "cooperation"]


def _model() -> Pipeline:
    features = ColumnTransformer([("text", DedupTfidfVectorizer(), "text")])
    return Pipeline([("features", features), ("classifier", LogisticRegression())]).fit(TEXTS, GOLD)


@pytest.fixture()
def logged(settings: Settings) -> tuple[str, Path]:
    """A newslab model logged as `newslab train` logs it: its models:/ URI and its folder in the store."""
    import mlflow

    tracking.connect(settings)
    tracking.ensure_experiment("loading")
    with mlflow.start_run():
        info = flavours.log_sklearn(_model(), TEXTS.head(2), flavours.pinned(flavours.SKLEARN_REQUIREMENTS))
    location = mlflow.get_logged_model(info.model_id).artifact_location
    return info.model_uri, Path(urlparse(location).path)


def test_a_newslab_model_loads_and_predicts(logged: tuple[str, Path]) -> None:
    model = load_model(logged[0])
    assert list(model.predict(TEXTS.head(1))) == ["conflict"]
    assert os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] == "false"


def test_a_model_that_declares_its_own_trust_is_refused(logged: tuple[str, Path]) -> None:
    uri, folder = logged
    mlmodel = folder / "MLmodel"
    spec = yaml.safe_load(mlmodel.read_text())
    spec["flavors"]["sklearn"]["skops_trusted_types"].append("builtins.eval")
    mlmodel.write_text(yaml.safe_dump(spec))
    with pytest.raises(NewslabError, match=rf"model {uri}: .*builtins.eval"):
        load_model(uri)


def test_a_skops_file_holding_an_untrusted_function_is_refused(
    logged: tuple[str, Path], tmp_path: Path
) -> None:
    import skops.io

    uri, folder = logged
    spec = yaml.safe_load((folder / "MLmodel").read_text())
    evil = Pipeline([("run", FunctionTransformer(os.system)), ("model", _model())])
    skops.io.dump(evil, folder / spec["flavors"]["sklearn"]["pickled_model"])
    with pytest.raises(NewslabError, match=r"types newslab does not: .*system") as caught:
        load_model(uri)
    assert "not loaded" in caught.value.message


def test_the_models_bundled_code_is_never_imported(logged: tuple[str, Path], tmp_path: Path) -> None:
    """A fresh interpreter loads the model with the installed `training`, whatever the model ships."""
    uri, folder = logged
    marker = tmp_path / "imported"
    for bundled in (folder / "code").rglob("*.py"):
        bundled.write_text(bundled.read_text() + f"\nopen({str(marker)!r}, 'w').close()\n")
    script = f"import training.loading as l, training\nm = l.load_model({uri!r})\nprint(training.__file__)\n"
    env = {**os.environ, "NEWSLAB_DATA_DIR": os.environ["NEWSLAB_DATA_DIR"]}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=PROJECT_DIR, env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert not marker.exists()
    assert Path(out.stdout.strip()).parent == PROJECT_DIR / "training"


def test_a_pickled_model_is_refused(logged: tuple[str, Path]) -> None:
    uri, folder = logged
    mlmodel = folder / "MLmodel"
    spec = yaml.safe_load(mlmodel.read_text())
    spec["flavors"]["sklearn"]["serialization_format"] = "cloudpickle"
    mlmodel.write_text(yaml.safe_dump(spec))
    with pytest.raises(NewslabError, match="newslab loads skops models only"):
        load_model(uri)
    shutil.rmtree(folder, ignore_errors=True)
