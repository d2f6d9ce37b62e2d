"""Helpers of the eval tests: two real, different runs on the Italian referendum set."""

from __future__ import annotations

from pathlib import Path

#: two model families whose predictions differ on conref_ita (a logistic regression, complement NB)
PAIR = (("lr", "{classifier: lr, C: 10.0}"), ("cnb", "{classifier: cnb}"))


def train_conref_pair(root: Path) -> list[str]:
    """Build conref_ita and train the two configs of PAIR on it: their MLflow run ids."""
    from core.assets import fetch
    from dataset.build import build
    from training.train import train

    fetch(["conref_stance_ita"])
    build("conref_ita")
    runs = []
    for name, params in PAIR:
        config = root / f"{name}.yaml"
        model = f"{{type: tfidf_lr, params: {params}}}"
        config.write_text(f"name: {name}\ntask: stance\ndataset: conref_ita\nmodel: {model}\n")
        runs.append(train(config).run_id)
    return runs
