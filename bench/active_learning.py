"""Benchmark: does active learning save labels, and does the audit find wrong ones? (gold labels: the oracle)

For each set, a seeded random seed set of the training split is labelled, a model is fitted
through the runner's builders (the fast linear family), and each round the strategy picks the
next batch from the rest of the training split (the pool; ``training.query.select``: the
diversity step on, near-duplicate groups of labelled items left out); the test split is scored
after every round. Every strategy runs against ``random`` with the same seed sets, several seeds.

Printed per set: the test metric (the dataset's ranking metric) by number of labels, mean and
sd over seeds; then "labels saved": the labels each strategy needs (mean curve, linear
interpolation between rounds) to reach random's score at the full budget, as a share of that
budget, with a 95 % paired bootstrap interval over test items (curves recomputed on each
resample; resamples where the strategy never reaches random's score are counted, not averaged).

The audit: 10 % of the training split's labels flipped to another label (multi-label: the
item's labels replaced by one it lacked), out-of-fold probabilities (5 grouped folds) and
cleanlab's label-issue ranking; printed: precision and recall of its top 2 x (flips) at finding
the flipped items.

    .venv/bin/python bench/active_learning.py          # all three sets (FNC-1: a 4000-pair slice)
    .venv/bin/python bench/active_learning.py --only cameo_pentacode --seeds 5
    .venv/bin/python bench/active_learning.py --only cameo_pentacode --limit 60 --rounds 2 --seeds 1
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

import numpy as np

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # small-text imports transformers

LR = {"type": "tfidf_lr", "params": {"C": 10.0, "class_weight": "balanced"}}
PAIR_LR = {"type": "tfidf_pair_lr", "params": {"word_ngram_max": 2, "max_features": 50000, "C": 1.0}}


@dataclass(frozen=True)
class Spec:
    model: dict
    #: labels before the first round, labels per round, rounds
    seed_size: int
    batch: int
    rounds: int
    #: items per split of the slice built (None: the whole dataset)
    limit: int | None = None


SPECS = {
    "fnc1": Spec(PAIR_LR, 50, 50, 8, limit=4000),
    "cameo_pentacode": Spec(LR, 30, 30, 8),
    "plover_gsr": Spec(LR, 20, 10, 8),
}
#: a fold builder needs this many labelled items per fold for the audit
AUDIT_FOLDS = 5
NOISE = 0.10


def dataset_name(dataset: str, limit: int | None) -> str:
    """Fetch the dataset's asset and build it (or its slice of ``limit`` items per split)."""
    from core.assets import fetch
    from dataset.build import build
    from dataset.config import load_dataset_config

    config = load_dataset_config(dataset)
    fetch([config.asset] if config.asset else list(config.corpus_assets))
    return build(dataset, limit=limit).path.name


def seed_set(gold: list, size: int, multi_label: bool, rng: np.random.Generator) -> np.ndarray:
    """A random seed set of ``size`` rows holding at least two classes (a classifier needs them)."""
    for _ in range(100):
        rows = rng.choice(len(gold), size, replace=False)
        seen = {c for i in rows for c in (gold[i] if multi_label else [gold[i]])}
        if len(seen) >= 2:
            return rows
    raise SystemExit(f"no seed set of {size} items with two classes")


def simulate(data, spec: Spec, strategy: str, seed: int, features, near_dup: list[str], metric: str):  # type: ignore[no-untyped-def]
    """One active-learning run: (labels, test predictions, test score) after each round."""
    from eval.audit import aligned_proba
    from training.models import build_model
    from training.query import select
    from training.runner import fit_model, predict_codes, score

    task, train, test = data.task, data.train, data.test
    rng = np.random.default_rng(seed)
    labelled = list(seed_set(train.gold, spec.seed_size, task.multi_label, rng))
    points = []
    for round_ in range(spec.rounds + 1):
        fit = train.subset(labelled)
        model = build_model(data.model, task, 13, lang=data.lang)
        fit_model(model, fit.x, fit.gold, task, fit.groups)
        predicted = predict_codes(model, test.x, task)
        points.append((len(labelled), predicted, score(test.gold, predicted, task, metric)))
        if round_ == spec.rounds:
            break
        taken = set(labelled)
        pool = np.array([i for i in range(len(train.gold)) if i not in taken])
        proba = aligned_proba(model, train.x.iloc[pool], task.codes, task.multi_label)
        cardinality = float(np.mean([len(g) for g in fit.gold])) if task.multi_label else None
        chosen = select(
            proba,
            strategy,
            min(spec.batch, len(pool)),
            multi_label=task.multi_label,
            features=None if strategy == "random" else features[pool],
            groups=[near_dup[i] for i in pool],
            labelled_groups={near_dup[i] for i in labelled if near_dup[i]},
            seed=seed * 1000 + round_,
            label_cardinality=cardinality,
        )
        labelled.extend(int(pool[i]) for i in chosen.indices)
    return points


def labels_needed(labels: np.ndarray, curve: np.ndarray, target: float) -> float:
    """The labels at which ``curve`` first reaches ``target`` (linear between points; NaN: never)."""
    reached = np.flatnonzero(curve >= target - 1e-12)
    if not len(reached):
        return float("nan")
    i = int(reached[0])
    if i == 0:
        return float(labels[0])
    (l0, c0), (l1, c1) = (labels[i - 1], curve[i - 1]), (labels[i], curve[i])
    return float(l0 + (target - c0) / (c1 - c0) * (l1 - l0)) if c1 > c0 else float(l1)


def labels_saved(runs: dict, data, metric: str, n_boot: int) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    """Per strategy: (share saved, its 95 % interval, share of resamples where random's score is reached)."""
    from core import metrics
    from core.stats import draws, interval

    roles = metrics.Roles.of(data.task)
    chosen = metrics.get(metric)
    y = metrics.encode(data.test.gold, roles)
    encoded = {
        s: [[metrics.encode(p, roles) for _, p, _ in points] for points in seeds] for s, seeds in runs.items()
    }
    labels = np.array([n for n, _, _ in runs["random"][0]], dtype=float)
    budget = labels[-1]

    def curves(rows: np.ndarray | None) -> dict[str, np.ndarray]:
        yy = y if rows is None else y[rows]
        return {
            s: np.mean(
                [
                    [
                        metrics.from_encoded(yy, p if rows is None else p[rows], roles, [chosen])[metric]
                        for p in seed
                    ]
                    for seed in seeds
                ],
                axis=0,
            )
            for s, seeds in encoded.items()
        }

    def saved(rows: np.ndarray | None) -> dict[str, float]:
        c = curves(rows)
        target = c["random"][-1]
        return {s: 1 - labels_needed(labels, c[s], target) / budget for s in c if s != "random"}

    point = saved(None)
    boot = draws(saved, len(y), n_boot, seed=0)
    return {s: (point[s], interval(boot[s]), float(np.mean(~np.isnan(boot[s])))) for s in point}


def audit(data, seed: int) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    """Precision and recall of the audit's top 2 x (flips) at finding 10 % flipped training labels."""
    from eval.audit import label_issues, out_of_fold_proba, precision_recall_at
    from training.runner import Part

    train, task = data.train, data.task
    rng = np.random.default_rng(seed)
    flipped = rng.choice(len(train.gold), max(1, round(NOISE * len(train.gold))), replace=False)
    gold = list(train.gold)
    present = sorted({c for g in gold for c in (g if task.multi_label else [g])})
    for i in flipped:
        if task.multi_label:
            gold[i] = [str(rng.choice([c for c in present if c not in gold[i]]))]
        else:
            gold[i] = str(rng.choice([c for c in present if c != gold[i]]))
    proba = out_of_fold_proba(data, Part(train.x, gold, train.groups), k=AUDIT_FOLDS, seed=13, fold_seed=seed)
    issues = label_issues(gold, proba, task.codes, task.multi_label)
    precision, recall = precision_recall_at(issues.ranking, flipped.tolist(), 2 * len(flipped))
    return precision, recall, len(flipped)


def main() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from core.schema import load_schema
    from training import query
    from training.config import ModelConfig
    from training.runner import prepare, primary_metric

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="+", choices=list(SPECS), help="only these datasets")
    parser.add_argument(
        "--limit", type=int, help="a slice of at most this many items per split (built first)"
    )
    parser.add_argument("--seed-size", type=int, help="labels before the first round")
    parser.add_argument("--batch", type=int, help="labels per round")
    parser.add_argument("--rounds", type=int, help="rounds of annotation")
    parser.add_argument("--seeds", type=int, default=3, help="seed sets per strategy (default 3)")
    parser.add_argument("--boot", type=int, default=500, help="bootstrap resamples (default 500)")
    parser.add_argument("--no-audit", action="store_true", help="leave out the label-noise audit")
    args = parser.parse_args()
    schema = load_schema()
    for dataset in args.only or SPECS:
        started = time.perf_counter()
        base = SPECS[dataset]
        spec = Spec(
            base.model,
            args.seed_size or base.seed_size,
            args.batch or base.batch,
            args.rounds if args.rounds is not None else base.rounds,
            args.limit or base.limit,
        )
        data = prepare(
            ModelConfig.model_validate(spec.model), dataset_name(dataset, spec.limit), schema=schema
        )
        task = data.task
        metric = primary_metric(task, data.meta["name"])
        features = TfidfVectorizer(sublinear_tf=True, min_df=2, max_features=20000).fit_transform(
            data.train.x["text"]
        )
        near_dup = (
            list(data.ds["train"]["group"])
            if "group" in data.ds["train"].column_names
            else [""] * len(data.train.gold)
        )
        strategies = ["random", *[s for s in query.names(task.multi_label) if s != "random"]]
        runs = {
            s: [simulate(data, spec, s, seed, features, near_dup, metric) for seed in range(args.seeds)]
            for s in strategies
        }
        print(
            f"\n{dataset}: pool {len(data.train.gold):,}, test {len(data.test.gold):,}, "
            f"{spec.model['type']}, "
            f"seed set {spec.seed_size}, {spec.rounds} rounds of {spec.batch}, {args.seeds} seeds; "
            f"test {metric} by number of labels (mean ± sd over seeds)"
        )
        print("labels  " + "".join(f"{s:>22s}" for s in strategies))
        for j, (n, _, _) in enumerate(runs["random"][0]):
            cells = []
            for s in strategies:
                values = [points[j][2] for points in runs[s]]
                cells.append(f"{np.mean(values):.3f} ± {np.std(values):.3f}".rjust(22))
            print(f"{n:>6d}  " + "".join(cells))
        full = np.mean([points[-1][2] for points in runs["random"]])
        budget = runs["random"][0][-1][0]
        print(
            f"labels saved (to reach random's {metric} {full:.3f} at {budget} labels; "
            "95 % bootstrap interval):"
        )
        for s, (share, (low, high), reached) in labels_saved(runs, data, metric, args.boot).items():
            needed = "never" if np.isnan(share) else f"{(1 - share) * budget:.0f} labels"
            saved = "n/a" if np.isnan(share) else f"{share:+.0%}"
            print(
                f"  {s:18s} {saved:>5s} [{low:+.0%}, {high:+.0%}]  needs {needed}; "
                f"reached in {reached:.0%} of resamples"
            )
        if not args.no_audit:
            results = [audit(data, seed) for seed in range(args.seeds)]
            flips = results[0][2]
            print(
                f"audit: {flips} of {len(data.train.gold):,} training labels flipped ({NOISE:.0%}); "
                f"top {2 * flips}: precision {np.mean([r[0] for r in results]):.2f}, "
                f"recall {np.mean([r[1] for r in results]):.2f} (mean of {len(results)} seeds: "
                + ", ".join(f"{r[1]:.2f}" for r in results)
                + ")"
            )
        print(f"({dataset}: {time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
