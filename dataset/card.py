"""The dataset card: a README.md with the Hugging Face Hub's YAML header, written with every build."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

from annotation.agreement import AgreementReport
from annotation.gold import GoldResult
from core.schema import Task
from dataset.config import DatasetConfig
from dataset.records import LabeledItem
from dataset.splits import SPLIT_NAMES

ANNOTATION_PROCESS = (
    "Articles were labelled in Label Studio with a labeling config generated from newslab's label "
    "schema (`core/labels.yaml`), following `annotation/guidelines.md`. Items can be double-annotated "
    "in per-annotator projects; low-agreement items go to a review project where an adjudicator decides."
)


@dataclass
class CardPart:
    """What the card says about one configuration."""

    name: str
    task_name: str
    task: Task
    items: list[LabeledItem]
    path: str  #: folder of the configuration, relative to the dataset root ("" for a single one)
    gold: GoldResult | None = None
    agreement: AgreementReport | None = None
    warnings: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  #: ids of items left out (article unavailable)
    unavailable_assets: list[str] = field(default_factory=list)  #: the corpus assets that could not be had


def size_category(n: int) -> str:
    for bound, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ):
        if n < bound:
            return name
    return "1M<n<10M" if n < 10_000_000 else "n>10M"


def _splits(items: list[LabeledItem]) -> list[str]:
    present = {i.split for i in items}
    return [s for s in SPLIT_NAMES if s in present] + sorted(present - {*SPLIT_NAMES, ""})


def header(config: DatasetConfig, parts: list[CardPart]) -> dict:
    items = [i for p in parts for i in p.items]
    languages = sorted({i.lang for i in items if i.lang})
    task_ids = sorted(
        {"multi-label-classification" if p.task.multi_label else "multi-class-classification" for p in parts}
    )
    return {
        "pretty_name": config.name,
        "language": languages,
        "multilinguality": "multilingual" if len(languages) > 1 else "monolingual",
        "license": "other",
        "license_name": "mixed" if config.from_annotations else (config.licence or "unknown"),
        "annotations_creators": ["expert-generated"],
        "source_datasets": ["original"] if config.from_annotations else [config.source or config.name],
        "task_categories": ["text-classification"],
        "task_ids": task_ids,
        "size_categories": [size_category(len(items))],
        "configs": [
            {
                "config_name": p.name,
                **({"default": True} if len(parts) == 1 else {}),
                "data_files": [
                    {"split": s, "path": "/".join(x for x in (p.path, "parquet", f"{s}.parquet") if x)}
                    for s in _splits(p.items)
                ],
            }
            for p in parts
        ],
    }


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _fmt(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def _distribution(part: CardPart) -> str:
    splits = _splits(part.items)
    counts = {s: Counter(label for i in part.items if i.split == s for label in i.labels) for s in splits}
    sizes = Counter(i.split for i in part.items)
    rows = [
        [f"`{code}` {part.task.label(code).name}", *(str(counts[s][code]) for s in splits)]
        for code in part.task.codes
    ]
    if part.task.multi_label:
        none = {s: sum(1 for i in part.items if i.split == s and not i.labels) for s in splits}
        rows.append(["(no label)", *(str(none[s]) for s in splits)])
    rows.append(["**items**", *(f"**{sizes[s]}**" for s in splits)])
    return _table(["label", *splits], rows)


def _agreement(part: CardPart) -> str:
    if part.agreement is None:
        return "Each item was labelled by a single annotator: agreement was not measured."
    report = part.agreement
    rows = [
        [r.scope, r.name, r.metric, _fmt(r.value), f"[{_fmt(r.low)}, {_fmt(r.high)}]", str(r.n_units)]
        for r in report.rows
        if r.scope in ("overall", "label", "pair")
    ]
    return (
        f"{report.n_annotators} annotators; {report.n_units} units labelled by two or more. "
        "95 % bootstrap intervals over units.\n\n"
        + _table(["scope", "name", "metric", "value", "95 % CI", "units"], rows)
    )


def _gold(config: DatasetConfig, part: CardPart) -> str:
    gold = part.gold
    assert gold is not None
    methods = Counter(i.method for i in gold.items)
    agreements = [i.agreement for i in gold.items if not math.isnan(i.agreement)]
    mean = sum(agreements) / len(agreements) if agreements else float("nan")
    method = f"`{config.gold.method}`" + (
        f" (fallback `{config.gold.fallback}`)" if config.gold.method == "ground_truth" else ""
    )
    if config.gold.primary:
        method = f"the labels of `{config.gold.primary}` where given, else {method}"
    return (
        f"Gold labels: {method}"
        + f"; items by method: {', '.join(f'{k} {v}' for k, v in sorted(methods.items()))}. "
        f"Mean item agreement with the gold labels: {_fmt(mean)}. "
        f"{len(gold.dropped)} unit(s) left out with fewer than {config.gold.min_annotators} annotator(s); "
        f"{len(gold.review)} item(s) under the review threshold {config.gold.review_below}. "
        "Every row keeps `n_annotators` and `agreement`."
    )


def _sources(config: DatasetConfig, parts: list[CardPart]) -> str:
    if not config.from_annotations:
        return f"{config.source or config.name}. Licence: {config.licence or 'not stated'}."
    rows: dict[tuple[str, str], int] = Counter()
    for part in parts:
        for item in part.items:
            rows[(item.source or "unknown", item.licence or "not stated")] += 1
    table = _table(["source", "licence", "items"], [[s, lic, str(n)] for (s, lic), n in sorted(rows.items())])
    return (
        table
        + "\n\nThe articles keep their own licences. Each row carries the article's `url`, `licence` and "
        "`attribution` (author and source, as CC BY asks); credit them when you reuse the text."
    )


def _unavailable(part: CardPart) -> str:
    ids = ", ".join(f"`{i}`" for i in part.unavailable)
    return (
        f"{len(part.unavailable)} annotated item(s) are not in this version: their articles come from "
        f"corpus assets that could not be had where it was built ({', '.join(part.unavailable_assets)}). "
        f"They were split with the others, so every other item has the split it has with them, then "
        f"left out: {ids}."
    )


def render(config: DatasetConfig, parts: list[CardPart], fingerprint: str, extra: Mapping[str, str]) -> str:
    """The whole README.md."""
    out = [
        "---",
        yaml.safe_dump(header(config, parts), sort_keys=False, allow_unicode=True).strip(),
        "---",
        "",
    ]
    out += [f"# {config.name}", "", config.description or "", ""]
    out += [f"Built by newslab; fingerprint `{fingerprint}`."]
    out += [f"{k}: {v}." for k, v in extra.items()]
    out += [""]
    for part in parts:
        title = f"## Configuration `{part.name}`: {part.task_name}"
        kind = "multi-label (a list of labels)" if part.task.multi_label else "single-label"
        out += [title, "", f"{part.task.description or ''} Task kind: {kind}.", ""]
        out += ["### Sizes and label distribution", "", _distribution(part), ""]
        if part.gold is not None:
            process = config.annotation_process.strip() or ANNOTATION_PROCESS
            out += ["### Annotation process", "", process, "", _gold(config, part), ""]
            out += ["### Agreement", "", _agreement(part), ""]
        if part.warnings:
            out += ["### Warnings", "", *(f"- {w}" for w in part.warnings), ""]
        if part.unavailable:
            out += ["### Unavailable items", "", _unavailable(part), ""]
    if config.splits:
        s = config.splits
        out += [
            "## Splits",
            "",
            f"Seeded ({s.seed}), {'by time (oldest in train)' if s.by == 'time' else 'stratified by label'}, "
            f"fractions {s.fractions}; every near-duplicate cluster (or article) stays in one split.",
            "",
        ]
    out += ["## Sources, licences and attribution", "", _sources(config, parts), ""]
    if config.published:
        rows = [[p.system, p.metric, f"{p.value:.4f}", p.source] for p in config.published]
        out += ["## Published results", "", _table(["system", "metric", "value", "source"], rows), ""]
    return "\n".join(out)
