"""Loading a logged model trusts newslab's code, not the model: tampered models are refused.
The logged pyfunc keeps one contract, and loads with plain MLflow where newslab is not installed."""

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
from core.schema import load_schema
from core.settings import PROJECT_DIR, Settings
from newslab_model.contract import Card
from newslab_model.text_features import DedupTfidfVectorizer
from training import flavours, registry
from training.loading import check_serves, load, load_model

TEXTS = pd.DataFrame(
    {"text": ["troops shelled the city", "leaders signed a deal", "army attacked", "talks went well"]}
)
GOLD = ["conflict", "cooperation", "conflict", "cooperation"]
#: a label the four texts lack: its probability is 0, its column is still there
CARD = Card(
    task="toy",
    labels=["conflict", "cooperation", "other"],
    multi_label=False,
    inputs=["text"],
    kind="skops",
    trusted_types=registry.trusted_types(),
)


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
        requirements = flavours.pinned(flavours.SKLEARN_REQUIREMENTS)
        info = flavours.log_model(flavours.SKLEARN, _model(), TEXTS.head(2), requirements, CARD)
    location = mlflow.get_logged_model(info.model_id).artifact_location
    return info.model_uri, Path(urlparse(location).path)


def test_a_newslab_model_loads_and_predicts(logged: tuple[str, Path]) -> None:
    model = load_model(logged[0])
    assert list(model.predict(TEXTS.head(1))) == ["conflict"]
    assert os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] == "false"
    loaded = load(logged[0])
    out = loaded.predict(["troops attacked the city", "a deal was signed"])
    assert list(out.columns) == ["label", "proba_conflict", "proba_cooperation", "proba_other"]
    assert list(out["label"]) == ["conflict", "cooperation"]
    assert (out["proba_other"] == 0).all()
    assert out[["proba_conflict", "proba_cooperation"]].sum(axis=1).round(6).eq(1).all()
    assert loaded.card == CARD


def _spec(folder: Path) -> dict:
    return yaml.safe_load((folder / "MLmodel").read_text())


def _save_spec(folder: Path, spec: dict) -> None:
    (folder / "MLmodel").write_text(yaml.safe_dump(spec))


def test_a_model_for_another_task_or_schema_is_refused(logged: tuple[str, Path], settings: Settings) -> None:
    schema = load_schema(settings.schema_path)
    loaded = load(logged[0])
    with pytest.raises(NewslabError, match=r"predicts 'toy', not 'stance'"):
        check_serves(loaded, schema, "stance")
    other = load(logged[0])
    object.__setattr__(other, "card", Card(**{**CARD.to_config(), "task": "stance"}))
    with pytest.raises(NewslabError, match=r"trained on schema .* with stance labels conflict, cooperation"):
        check_serves(other, schema, "stance")


PLAIN_MLFLOW = """
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
sys.path_hooks[:] = [h for h in sys.path_hooks if "__editable__" not in getattr(h, "__module__", "")]
sys.path[:] = [p for p in sys.path if p not in ({root!r}, "")]
sys.path_importer_cache.clear()
sys.path.insert(0, {own!r})
import training  # the user's own package of that name
for name in ("core", "newslab_model"):
    try:
        __import__(name)
        raise SystemExit(name + " is importable: the test would prove nothing")
    except ImportError:
        pass
import json, mlflow, pandas as pd
m = mlflow.pyfunc.load_model({uri!r})
out = {{
    "list": m.predict(["troops attacked the city", "a deal was signed"]).to_dict("list"),
    "str": m.predict("troops attacked the city").to_dict("list"),
    "dict": m.predict({{"text": ["a deal was signed"]}}).to_dict("list"),
    "frame": m.predict(pd.DataFrame({{"text": ["troops attacked"]}})).to_dict("list"),
    "proba": m.predict(["troops"], params={{"predict_method": "predict_proba"}}).to_dict("list"),
    "outputs": m.metadata.get_output_schema().input_names(),
}}
print(json.dumps(out))
"""


def test_plain_mlflow_loads_it_without_newslab_beside_a_users_training_package(
    logged: tuple[str, Path], tmp_path: Path
) -> None:
    import json

    own = tmp_path / "own"
    (own / "training").mkdir(parents=True)
    (own / "training" / "__init__.py").write_text("MINE = True\n")
    script = PLAIN_MLFLOW.format(root=str(PROJECT_DIR), own=str(own), uri=logged[0])
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=os.environ.copy()
    )
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["list"]["label"] == ["conflict", "cooperation"]
    assert got["str"]["label"] == ["conflict"] and got["frame"]["label"] == ["conflict"]
    assert got["dict"]["label"] == ["cooperation"]
    assert set(got["proba"]) == {"proba_conflict", "proba_cooperation", "proba_other"}
    assert got["outputs"] == ["label", "proba_conflict", "proba_cooperation", "proba_other"]


def test_a_model_that_declares_its_own_trust_is_refused(logged: tuple[str, Path]) -> None:
    uri, folder = logged
    spec = _spec(folder)
    spec["flavors"]["python_function"]["config"]["trusted_types"].append("builtins.eval")
    _save_spec(folder, spec)
    with pytest.raises(NewslabError, match=rf"model {uri}: .*builtins.eval"):
        load_model(uri)


def test_a_skops_file_holding_an_untrusted_function_is_refused(
    logged: tuple[str, Path], tmp_path: Path
) -> None:
    import skops.io

    uri, folder = logged
    artifact = _spec(folder)["flavors"]["python_function"]["artifacts"]["estimator"]["path"]
    evil = Pipeline([("run", FunctionTransformer(os.system)), ("model", _model())])
    skops.io.dump(evil, folder / artifact)
    with pytest.raises(NewslabError, match=r"types newslab does not: .*system") as caught:
        load_model(uri)
    assert "not loaded" in caught.value.message


def test_the_models_bundled_code_is_never_imported(logged: tuple[str, Path], tmp_path: Path) -> None:
    """A fresh interpreter loads the model with the installed `newslab_model`, whatever the model ships."""
    uri, folder = logged
    marker = tmp_path / "imported"
    for bundled in (folder / "code").rglob("*.py"):
        bundled.write_text(bundled.read_text() + f"\nopen({str(marker)!r}, 'w').close()\n")
    script = (
        "import training.loading as l, newslab_model\n"
        f"m = l.load_model({uri!r})\nprint(newslab_model.__file__)\n"
    )
    env = {**os.environ, "NEWSLAB_DATA_DIR": os.environ["NEWSLAB_DATA_DIR"]}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=PROJECT_DIR, env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert not marker.exists()
    assert Path(out.stdout.strip()).parent == PROJECT_DIR / "newslab_model"


def test_a_pickled_model_is_refused(logged: tuple[str, Path]) -> None:
    uri, folder = logged
    spec = _spec(folder)
    artifact = spec["flavors"]["python_function"]["artifacts"]["estimator"]
    (folder / artifact["path"]).rename(folder / "artifacts" / "model.pkl")
    artifact["path"] = "artifacts/model.pkl"
    _save_spec(folder, spec)
    with pytest.raises(NewslabError, match="newslab loads skops models only"):
        load_model(uri)
    shutil.rmtree(folder, ignore_errors=True)


def test_a_model_of_an_older_newslab_is_refused_with_what_to_do(logged: tuple[str, Path]) -> None:
    uri, folder = logged
    spec = _spec(folder)
    spec["flavors"] = {"sklearn": {"serialization_format": "skops"}, "python_function": {}}
    _save_spec(folder, spec)
    with pytest.raises(NewslabError, match=r"not a newslab model \(logged by an older newslab\)") as caught:
        load_model(uri)
    assert "newslab train" in (caught.value.hint or "")
