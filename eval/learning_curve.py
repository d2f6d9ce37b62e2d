"""Learning curves: the test score of an experiment against the number of training annotations.

The experiment's model is trained on growing, seeded subsets of the training split
(whole articles at a time, so one article's pairs never straddle the subset's
edge), several seeds per size, and scored on the full test split with the same
metrics as ``newslab eval``. The curve is logged as one MLflow run tagged
``newslab.kind=learning_curve`` (metrics ``curve_<metric>`` at step = training
items, ``plots/learning_curve.png``, ``eval/learning_curve.csv``), and read in plain
words: how much the last doubling of annotations added, so annotators know whether
more labelling is likely to help.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core import tracking
from core.errors import NewslabError
from core.schema import Schema, load_schema
from core.settings import Settings, get_settings
from dataset.build import dataset_path, load
from eval.evaluate import compute_metrics, primary_metric
from training.config import load_experiment
from training.models import build_model, input_columns
from training.train import check_dataset, fit_model, predict_codes, split_gold, split_inputs, training_lang

KIND = "learning_curve"
PLOT = "plots/learning_curve.png"
TABLE = "eval/learning_curve.csv"
#: below this gain per doubling of the training data, the curve reads as flat
FLAT = 0.01


@dataclass(frozen=True)
class CurvePoint:
    fraction: float
    n_train: int
    seed: int
    metrics: dict[str, float]


@dataclass(frozen=True)
class LearningCurve:
    experiment: str
    dataset: str
    metric: str
    points: list[CurvePoint]
    run_id: str = ""

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"fraction": p.fraction, "n_train": p.n_train, "seed": p.seed, **p.metrics} for p in self.points]
        )

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation of the metric per training size."""
        frame = self.frame()
        return frame.groupby("n_train")[self.metric].agg(["mean", "std", "count"]).reset_index()

    def gain_per_doubling(self) -> float:
        """The slope of the metric against log2(training items) over the last two sizes."""
        s = self.summary()
        if len(s) < 2:
            return float("nan")
        (n0, m0), (n1, m1) = s[["n_train", "mean"]].iloc[-2], s[["n_train", "mean"]].iloc[-1]
        return float((m1 - m0) / np.log2(n1 / n0))

    def verdict(self) -> str:
        gain = self.gain_per_doubling()
        s = self.summary()
        last = s.iloc[-1]
        head = f"{self.metric} {last['mean']:.3f} with {int(last['n_train']):,} training items"
        if np.isnan(gain):
            return head + "; one size only: no trend."
        if gain >= FLAT:
            return f"{head}; the last doubling added {gain:+.3f}: still rising, more annotations should help."
        return f"{head}; the last doubling added {gain:+.3f}: flat, more of the same will help little."


def plan(fractions: tuple[float, ...], seeds: int) -> list[tuple[float, int]]:
    """(fraction, seed) of every model the curve trains, smallest first; the whole split once."""
    bad = [f for f in fractions if not 0 < f <= 1]
    if bad or not fractions:
        raise NewslabError(
            f"learning curve: sizes {list(fractions)}: give fractions in (0, 1], e.g. 0.25,0.5,1."
        )
    return [(f, seed) for f in sorted(set(fractions)) for seed in range(seeds if f < 1 else 1)]


def subset_rows(groups: list[str], fraction: float, seed: int) -> np.ndarray:
    """Rows of a seeded random subset of whole groups holding about ``fraction`` of the rows."""
    if not 0 < fraction <= 1:
        raise NewslabError(f"learning curve: size {fraction} is not a fraction in (0, 1].")
    codes, inverse = np.unique(np.asarray(groups, dtype=object), return_inverse=True)
    order = np.random.default_rng(seed).permutation(len(codes))
    sizes = np.bincount(inverse, minlength=len(codes))[order]
    keep = order[: int(np.searchsorted(np.cumsum(sizes), fraction * len(groups)) + 1)]
    return np.flatnonzero(np.isin(inverse, keep))


def learning_curve(
    experiment: str | Path,
    fractions: tuple[float, ...] = (0.125, 0.25, 0.5, 1.0),
    seeds: int = 3,
    dataset: str | None = None,
    settings: Settings | None = None,
    schema: Schema | None = None,
    log: bool = True,
    on_point: Callable[[CurvePoint], None] | None = None,
) -> LearningCurve:
    """Train the experiment's model on growing subsets of its training split; score each on the test split."""
    steps = plan(fractions, seeds)  # bad sizes are refused before anything trains
    settings = settings or get_settings()
    schema = schema or load_schema(settings.schema_path)
    config, _ = load_experiment(experiment)
    task = schema.task(config.task)
    path = dataset_path(dataset or config.dataset, settings)
    ds, meta = load(path)
    check_dataset(config, meta, ds, path)
    if log:
        tracking.connect(settings)  # a server that is down fails here, before any training
    columns = input_columns(config.model)
    x_train, x_test = split_inputs(ds["train"], columns), split_inputs(ds["test"], columns)
    y_train, y_test = split_gold(ds["train"], task), split_gold(ds["test"], task)
    groups = list(ds["train"]["article_id"])
    lang = training_lang(ds["train"])
    points: list[CurvePoint] = []
    for fraction, seed in steps:
        rows = subset_rows(groups, fraction, config.seed + seed)
        model = build_model(config.model, task, config.seed, lang=lang)
        fit_model(model, x_train.iloc[rows], [y_train[i] for i in rows], task, [groups[i] for i in rows])
        predictions = pd.DataFrame({"gold": y_test, "pred": predict_codes(model, x_test, task)})
        point = CurvePoint(
            fraction, len(rows), seed, compute_metrics(predictions, config.task, meta["name"], schema)
        )
        points.append(point)
        if on_point:
            on_point(point)
    metric = primary_metric(task, meta["name"])
    curve = LearningCurve(config.name, meta["name"], metric, points)
    return _log(curve, config.task, path, settings) if log else curve


def curve_figure(curve: LearningCurve):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = curve.summary()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(s["n_train"], s["mean"], yerr=s["std"].fillna(0), marker="o", capsize=3)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("training items (log scale)")
    ax.set_ylabel(f"test {curve.metric}")
    ax.set_title(f"{curve.experiment} on {curve.dataset}", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _log(curve: LearningCurve, task: str, path: Path, settings: Settings) -> LearningCurve:
    import matplotlib.pyplot as plt
    import mlflow

    tracking.ensure_experiment(tracking.experiment_name(task, curve.dataset), settings)
    tags = {
        "newslab.kind": KIND,
        "newslab.experiment": curve.experiment,
        "newslab.dataset": curve.dataset,
        "newslab.dataset_path": str(path.resolve()),
        "mlflow.source.git.commit": tracking.git_commit(settings.project_dir),
    }
    with mlflow.start_run(run_name=f"{curve.experiment}-learning-curve", tags=tags) as run:
        mlflow.log_params({"curve.metric": curve.metric, "curve.sizes": len(curve.summary())})
        for _, row in curve.summary().iterrows():
            mlflow.log_metric(f"curve_{curve.metric}", float(row["mean"]), step=int(row["n_train"]))
        mlflow.log_metric("curve_gain_per_doubling", curve.gain_per_doubling())
        figure = curve_figure(curve)
        mlflow.log_figure(figure, PLOT)
        plt.close(figure)
        with tempfile.TemporaryDirectory() as tmp:
            table = Path(tmp) / Path(TABLE).name
            curve.frame().to_csv(table, index=False)
            mlflow.log_artifact(str(table), artifact_path=str(Path(TABLE).parent))
        mlflow.set_tag("newslab.verdict", curve.verdict())
    return LearningCurve(curve.experiment, curve.dataset, curve.metric, curve.points, run.info.run_id)
