"""Learning curves: the test score of an experiment against the number of training annotations.

The experiment's model is trained on growing, seeded subsets of the training split
(a fraction of its articles, whole articles at a time, so one article's pairs never
straddle the subset's edge), several seeds per size, and scored on the full test split
with the same metrics as ``newslab eval``. Each size is read as the mean and standard
deviation over its seeds (an article brings a different number of items in each subset,
so sizes are counted in articles). The curve is logged as one MLflow run tagged
``newslab.kind=learning_curve`` (metrics ``curve_<metric>``, ``curve_<metric>_sd`` and
``curve_items`` at step = training articles, ``plots/learning_curve.png``,
``eval/learning_curve.csv``), and read in plain words: how much the last doubling of
annotated articles added, so annotators know whether more labelling is likely to help.
"""

from __future__ import annotations

import math
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
from eval.evaluate import compute_metrics, primary_metric
from training.config import load_experiment
from training.runner import fit_predict, prepare_experiment

KIND = "learning_curve"
PLOT = "plots/learning_curve.png"
TABLE = "eval/learning_curve.csv"
#: below this gain per doubling of the training data, the curve reads as flat
FLAT = 0.01


@dataclass(frozen=True)
class CurvePoint:
    fraction: float
    #: training articles (the size asked for) and the items they hold (pairs, for stance)
    n_articles: int
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
            [
                {
                    "fraction": p.fraction,
                    "n_articles": p.n_articles,
                    "n_train": p.n_train,
                    "seed": p.seed,
                    **p.metrics,
                }
                for p in self.points
            ]
        )

    def summary(self) -> pd.DataFrame:
        """Per requested size (fraction): the training articles, the mean number of training items,
        and the mean, standard deviation and count of the metric over seeds; smallest first."""
        grouped = self.frame().groupby("fraction")
        return grouped.agg(
            n_articles=("n_articles", "max"),
            n_train=("n_train", "mean"),
            mean=(self.metric, "mean"),
            std=(self.metric, "std"),
            count=(self.metric, "count"),
        ).reset_index()

    def gain_per_doubling(self) -> float:
        """The slope of the mean metric against log2(training articles) over the last two sizes."""
        s = self.summary()
        if len(s) < 2 or s["n_articles"].iloc[-1] <= s["n_articles"].iloc[-2]:
            return float("nan")
        (a0, m0), (a1, m1) = s[["n_articles", "mean"]].iloc[-2], s[["n_articles", "mean"]].iloc[-1]
        return float((m1 - m0) / np.log2(a1 / a0))

    def verdict(self) -> str:
        gain = self.gain_per_doubling()
        s = self.summary()
        last = s.iloc[-1]
        head = (
            f"{self.metric} {last['mean']:.3f} with {int(last['n_articles']):,} training articles "
            f"({last['n_train']:,.0f} items)"
        )
        if np.isnan(gain):
            return head + "; one size only: no trend."
        before = s.iloc[-2]
        noise = (
            f", sd over {int(before['count'])} seeds before it {before['std']:.3f}"
            if before["count"] > 1
            else ""
        )
        added = f"the last doubling added {gain:+.3f} (mean of each size{noise})"
        if gain >= FLAT:
            return f"{head}; {added}: still rising, more annotations should help."
        return f"{head}; {added}: flat, more of the same will help little."


def plan(fractions: tuple[float, ...], seeds: int) -> list[tuple[float, int]]:
    """(fraction, seed) of every model the curve trains, smallest first; the whole split once."""
    bad = [f for f in fractions if not 0 < f <= 1]
    if bad or not fractions:
        raise NewslabError(
            f"learning curve: sizes {list(fractions)}: give fractions in (0, 1], e.g. 0.25,0.5,1."
        )
    return [(f, seed) for f in sorted(set(fractions)) for seed in range(seeds if f < 1 else 1)]


def subset_rows(groups: list[str], fraction: float, seed: int) -> np.ndarray:
    """Rows of a seeded random subset of ``fraction`` of the groups (rounded up), whole groups."""
    if not 0 < fraction <= 1:
        raise NewslabError(f"learning curve: size {fraction} is not a fraction in (0, 1].")
    codes, inverse = np.unique(np.asarray(groups, dtype=object), return_inverse=True)
    order = np.random.default_rng(seed).permutation(len(codes))
    keep = order[: max(1, math.ceil(round(fraction * len(codes), 9)))]
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
    data = prepare_experiment(config, dataset, settings, schema)
    meta = data.meta
    if log:
        tracking.connect(settings)  # a server that is down fails here, before any training
    groups = data.train.groups
    points: list[CurvePoint] = []
    for fraction, seed in steps:
        rows = subset_rows(groups, fraction, config.seed + seed)
        fitted = fit_predict(data, config.seed, data.train.subset(rows), data.test.x)
        predictions = pd.DataFrame({"gold": data.test.gold, "pred": fitted.predicted})
        scores = compute_metrics(predictions, config.task, meta["name"], schema)
        point = CurvePoint(fraction, len({groups[i] for i in rows}), len(rows), seed, scores)
        points.append(point)
        if on_point:
            on_point(point)
    metric = primary_metric(data.task, meta["name"])
    curve = LearningCurve(config.name, meta["name"], metric, points)
    return _log(curve, config.task, data.path, settings) if log else curve


def curve_figure(curve: LearningCurve):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = curve.summary()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(s["n_articles"], s["mean"], yerr=s["std"].fillna(0), marker="o", capsize=3)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("training articles (log scale; bars: sd over seeds)")
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
            step = int(row["n_articles"])
            mlflow.log_metric(f"curve_{curve.metric}", float(row["mean"]), step=step)
            mlflow.log_metric("curve_items", float(row["n_train"]), step=step)
            if row["count"] > 1:
                mlflow.log_metric(f"curve_{curve.metric}_sd", float(row["std"]), step=step)
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
