"""Paired comparison of two runs on the same test items: McNemar and a paired bootstrap of macro-F1.

Both runs must have predicted the same test items with the same gold labels and the
same label set (the schema task's); anything else is refused, naming what differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.contingency_tables import mcnemar

from core import metrics, stats, tracking
from core.errors import NewslabError
from core.redact import redact
from core.settings import Settings, get_settings
from eval.evaluate import load_predictions


@dataclass(frozen=True)
class Comparison:
    run_a: str
    run_b: str
    name_a: str
    name_b: str
    n_items: int
    macro_f1_a: float
    macro_f1_b: float
    diff: float  #: macro-F1 of A minus B
    diff_low: float  #: 95 % paired bootstrap interval of the difference
    diff_high: float
    p_bootstrap: float  #: two-sided, from the bootstrap distribution of the difference
    a_only_right: int  #: items A gets right and B wrong
    b_only_right: int
    p_mcnemar: float
    verdict: str


def _labels(run_id: str) -> list[str]:
    import mlflow

    try:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="config/labels.json")
    except Exception:  # an MlflowException or an OSError from the artifact store
        raise NewslabError(
            f"run {run_id}: no config/labels.json; only `newslab train` runs compare."
        ) from None
    with open(path, encoding="utf-8") as fh:
        return list(json.load(fh)["labels"])


def align(a: pd.DataFrame, b: pd.DataFrame, run_a: str, run_b: str) -> pd.DataFrame:
    """The two runs' predictions side by side; a clear refusal when they are not on the same items."""
    ids_a, ids_b = set(a["id"]), set(b["id"])
    if ids_a != ids_b:
        only_a, only_b = sorted(ids_a - ids_b)[:3], sorted(ids_b - ids_a)[:3]
        raise NewslabError(
            f"runs {run_a[:8]} and {run_b[:8]} were tested on different items "
            f"({len(ids_a)} vs {len(ids_b)}; only in A: {', '.join(only_a) or '-'}; only in B: "
            f"{', '.join(only_b) or '-'}).",
            "Compare runs evaluated on the same dataset and slice.",
        )
    merged = a[["id", "gold", "pred"]].merge(b[["id", "gold", "pred"]], on="id", suffixes=("_a", "_b"))
    differ = [
        i
        for i, x, y in zip(merged["id"], merged["gold_a"], merged["gold_b"], strict=True)
        if _key(x) != _key(y)
    ]
    if differ:
        raise NewslabError(
            f"runs {run_a[:8]} and {run_b[:8]} have different gold labels for {len(differ)} item(s) "
            f"(e.g. {', '.join(differ[:3])}): not the same test set."
        )
    return merged


def _key(value) -> tuple | str:  # type: ignore[no-untyped-def]
    return tuple(sorted(value)) if isinstance(value, list | tuple | np.ndarray) else str(value)


def _roles(gold: pd.Series, labels: list[str]) -> metrics.Roles:
    multi = isinstance(gold.iloc[0], list | tuple | np.ndarray)
    return metrics.Roles(codes=tuple(labels), multi_label=multi, unrelated=(), polar=())


def _macro_f1(y: np.ndarray, p: np.ndarray, roles: metrics.Roles) -> float:
    return metrics.from_encoded(y, p, roles, [metrics.get("macro_f1")])["macro_f1"]


def paired_bootstrap(
    y: np.ndarray, pa: np.ndarray, pb: np.ndarray, roles: metrics.Roles, n_boot: int = 1000, seed: int = 0
) -> tuple[float, float, float, float]:
    """Macro-F1 difference (A - B) on the items, its 95 % interval and a two-sided p-value,
    resampling items with replacement (both runs judged on the same resampled items)."""
    diff = _macro_f1(y, pa, roles) - _macro_f1(y, pb, roles)
    draws = stats.draws(
        lambda rows: {"diff": _macro_f1(y[rows], pa[rows], roles) - _macro_f1(y[rows], pb[rows], roles)},
        len(y),
        n_boot,
        seed,
    )["diff"]
    low, high = stats.interval(draws)
    return diff, low, high, stats.two_sided_p(draws, diff)


def mcnemar_test(right_a: np.ndarray, right_b: np.ndarray) -> tuple[int, int, float]:
    """Items only A gets right, only B gets right, and McNemar's p (exact binomial under 25 discordant)."""
    a_only = int((right_a & ~right_b).sum())
    b_only = int((~right_a & right_b).sum())
    table = [[int((right_a & right_b).sum()), a_only], [b_only, int((~right_a & ~right_b).sum())]]
    if a_only + b_only == 0:
        return a_only, b_only, 1.0
    result = mcnemar(table, exact=(a_only + b_only) < 25, correction=True)
    return a_only, b_only, float(result.pvalue)


def _bootstrap_p(p_boot: float, n_boot: int) -> str:
    """The bootstrap p as text: ``p < 0.001 (1/1000)`` when no resample crossed zero (B resamples
    cannot resolve a p below 1/B, and ``p = 0`` would claim certainty), else its value."""
    if p_boot == 0 and n_boot > 0:
        return f"p < {1 / n_boot:.3g} (1/{n_boot})"
    return f"p = {p_boot:.3g}"


def verdict(
    name_a: str,
    name_b: str,
    diff: float,
    low: float,
    high: float,
    p_boot: float,
    p_mc: float,
    n_boot: int = 1000,
) -> str:
    """The comparison in plain words; every sentence gives the signed difference A - B, so which run
    the interval and the sign refer to is never left to the reader."""
    better, worse = (name_a, name_b) if diff >= 0 else (name_b, name_a)
    size = f"{abs(diff):.3f} macro-F1 (A - B = {diff:+.3f}, 95 % CI {low:+.3f} to {high:+.3f})"
    tests = f"bootstrap {_bootstrap_p(p_boot, n_boot)}, McNemar p = {p_mc:.3g}"
    if p_boot < 0.05 and p_mc < 0.05:
        return f"{better} is better than {worse} by {size}; significant ({tests})."
    if p_boot < 0.05 or p_mc < 0.05:
        return (
            f"{better} scores {size} higher than {worse}; the tests disagree ({tests}): "
            "treat the difference as uncertain."
        )
    # no winner to name, so the difference keeps its sign (A - B)
    return (
        f"No significant difference between {name_a} and {name_b}: A - B = {diff:+.3f} macro-F1 "
        f"(95 % CI {low:+.3f} to {high:+.3f}); {tests}. More test items or a larger gap would be needed."
    )


def _run(client, run_id: str, settings: Settings):  # type: ignore[no-untyped-def]
    from mlflow.exceptions import MlflowException

    try:
        return client.get_run(run_id)
    except MlflowException:
        uri = redact(settings.resolved_tracking_uri)
        raise NewslabError(f"run {run_id!r} not found in {uri}.") from None


def paired(
    a: pd.DataFrame, b: pd.DataFrame, ids: tuple[str, str], names: tuple[str, str], labels: list[str],
    n_boot: int = 1000, seed: int = 0,
) -> Comparison:  # fmt: skip
    """The paired tests of two prediction tables (id, gold, pred) on the same items."""
    merged = align(a, b, *ids)
    roles = _roles(merged["gold_a"], labels)
    y, pa, pb = (metrics.encode(list(merged[c]), roles) for c in ("gold_a", "pred_a", "pred_b"))
    diff, low, high, p_boot = paired_bootstrap(y, pa, pb, roles, n_boot, seed)
    right_a = (pa == y).all(axis=1) if y.ndim == 2 else pa == y
    right_b = (pb == y).all(axis=1) if y.ndim == 2 else pb == y
    a_only, b_only, p_mc = mcnemar_test(right_a, right_b)
    f1_a, f1_b = _macro_f1(y, pa, roles), _macro_f1(y, pb, roles)
    return Comparison(
        ids[0], ids[1], names[0], names[1], len(merged), f1_a, f1_b, diff, low, high, p_boot,
        a_only, b_only, p_mc, verdict(names[0], names[1], diff, low, high, p_boot, p_mc, n_boot),
    )  # fmt: skip


def compare_runs(
    run_a: str, run_b: str, n_boot: int = 1000, seed: int = 0, settings: Settings | None = None
) -> Comparison:
    """Compare two logged runs on their shared test items."""
    if run_a == run_b:
        raise NewslabError(f"run {run_a[:8]} compared with itself: give two different runs.")
    settings = settings or get_settings()
    tracking.connect(settings)
    from mlflow import MlflowClient

    client = MlflowClient()
    names = tuple(
        _run(client, r, settings).data.tags.get("newslab.experiment", r[:8]) for r in (run_a, run_b)
    )
    labels_a, labels_b = _labels(run_a), _labels(run_b)
    if labels_a != labels_b:
        raise NewslabError(
            f"runs {run_a[:8]} and {run_b[:8]} use different label sets ({', '.join(labels_a)} vs "
            f"{', '.join(labels_b)}): not comparable."
        )
    a, b = load_predictions(run_a), load_predictions(run_b)
    return paired(a, b, (run_a, run_b), names, labels_a, n_boot, seed)


def published_predictions(dataset: str, system: str, settings: Settings | None = None) -> pd.DataFrame:
    """A published system's predictions (id, gold, pred) on the dataset's test items, from its asset."""
    from core.assets import asset_dir, fetch
    from dataset.config import base_dataset_name, load_dataset_config

    settings = settings or get_settings()
    config = load_dataset_config(base_dataset_name(dataset))
    known = {p.system: p for p in config.published_predictions}
    if system not in known:
        raise NewslabError(
            f"dataset {config.name}: no published predictions of {system!r}.",
            f"Known: {', '.join(known) or 'none'} (published_predictions in its config).",
        )
    spec = known[system]
    fetch([spec.asset], settings)
    path = asset_dir(spec.asset, settings) / spec.file
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in (spec.column, spec.gold):
        if column and column not in frame.columns:
            raise NewslabError(f"{path}: no column {column!r} (has {', '.join(frame.columns)}).")

    from core.schema import load_schema

    codes = set(load_schema(settings.schema_path).task(config.task).codes)
    out = pd.DataFrame({"id": [spec.id_format.format(row=i) for i in range(len(frame))]})
    for name, column in (("pred", spec.column), ("gold", spec.gold)):
        if not column:
            continue
        labels = [config.label_map.get(v, v) for v in frame[column]]
        outside = sorted(set(labels) - codes)
        if outside:
            raise NewslabError(
                f"{path}: column {column!r} has label(s) {outside} that are not {config.task} labels "
                "(after the dataset's label map)."
            )
        out[name] = labels
    return out


def compare_with_published(
    run_id: str, system: str, n_boot: int = 1000, seed: int = 0, settings: Settings | None = None
) -> Comparison:
    """Compare a logged run with a published system's released predictions on the same test items."""
    settings = settings or get_settings()
    tracking.connect(settings)
    from mlflow import MlflowClient

    client = MlflowClient()
    tags = _run(client, run_id, settings).data.tags
    name, dataset = tags.get("newslab.experiment", run_id[:8]), tags.get("newslab.dataset", "")
    ours = load_predictions(run_id)
    theirs = published_predictions(dataset, system, settings)
    if "gold" not in theirs:  # no gold column to check the alignment with: take ours
        theirs = theirs.merge(ours[["id", "gold"]], on="id", how="left")
    return paired(
        ours, theirs, (run_id, f"published:{system}"), (name, system), _labels(run_id), n_boot, seed
    )
