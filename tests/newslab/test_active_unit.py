"""The pieces of an active-learning round without servers: the pool, the stopping signal."""

from __future__ import annotations

import pytest

from annotation.queue import Queued
from core.errors import NewslabError
from newslab.active.next import _check_pool
from newslab.active.pool import build_pool, stop_sample
from newslab.active.stopping import KAPPA, WINDOW, Snapshot, signal

CODES = ["favor", "against", "neutral"]


def _item(article: str, target: str = "") -> dict:
    return {"article_id": article, "text": f"text of {article}", **({"target": target} if target else {})}


def test_pool_leaves_out_queued_items_and_near_duplicates_of_labelled_ones() -> None:
    items = [_item("a"), _item("a2"), _item("b"), _item("c"), _item("d")]
    clusters = {"a": "A", "a2": "A", "b": "B", "c": "C", "d": "d"}
    queue = Queued(pushed={"a", "b"}, annotated={"a"}, articles={"a": "a", "b": "b"})
    pool = build_pool(items, clusters, queue)
    assert [t["article_id"] for t in pool.tasks] == ["c", "d"]  # a, b queued; a2 a copy of labelled a
    assert pool.groups == ["C", "d"]
    assert (pool.items, pool.queued, pool.near_duplicates, pool.labelled) == (5, 2, 1, 1)


def test_pool_of_pairs_groups_by_cluster_and_target() -> None:
    items = [_item("a", "iran"), _item("a2", "iran"), _item("a2", "russia")]
    queue = Queued(pushed={"a:iran"}, annotated={"a:iran"}, articles={"a:iran": "a"})
    pool = build_pool(items, {"a": "A", "a2": "A"}, queue)
    # the copy's pair on the labelled target is left out; its other target is a new question
    assert [(t["article_id"], t["target"]) for t in pool.tasks] == [("a2", "russia")]
    assert pool.groups == ["A|russia"]


def test_an_empty_pool_and_a_batch_larger_than_the_pool_are_refused() -> None:
    items = [_item("a"), _item("b")]
    queue = Queued(pushed={"a", "b"}, annotated=set(), articles={"a": "a", "b": "b"})
    with pytest.raises(NewslabError, match=r"pool of unlabelled items is empty .*2 already in a project"):
        _check_pool(build_pool(items, {}, queue), 1, "event_type")
    pool = build_pool(items, {}, Queued())
    with pytest.raises(NewslabError, match="a batch of 3 from a pool of 2") as exc:
        _check_pool(pool, 3, "event_type")
    assert "at most 2" in exc.value.hint


def test_the_stop_sample_is_fixed_whatever_the_order() -> None:
    items = [_item(f"x{i}") for i in range(50)]
    assert stop_sample(items, 10) == stop_sample(items[::-1], 10)
    assert len(stop_sample(items, 10)) == 10


def _snap(round_: int, version: str, labels: list[str]) -> Snapshot:
    return Snapshot(round_, version, {f"k{i}": (label,) for i, label in enumerate(labels)})


def test_no_signal_before_a_second_model() -> None:
    first = signal([_snap(1, "m/1", ["favor"] * 5)], CODES, False)
    assert not first.stop and first.kappas == [] and "first model" in first.message
    same = signal([_snap(1, "m/1", ["favor"] * 5), _snap(2, "m/1", ["favor"] * 5)], CODES, False)
    assert same.same_model and "not been retrained" in same.message


def test_the_signal_stops_once_successive_models_agree_over_the_window() -> None:
    base = ["favor", "against", "neutral"] * 20
    changing = [
        _snap(1, "m/1", base),
        _snap(2, "m/2", base[::-1]),
        _snap(3, "m/3", base),
        _snap(4, "m/4", base[::-1]),
    ]
    moving = signal(changing, CODES, False)
    assert len(moving.kappas) == 3 and not moving.stop
    assert "still changing" in moving.message
    settled = [*changing, *(_snap(5 + i, f"m/{5 + i}", base[::-1]) for i in range(WINDOW))]
    done = signal(settled, CODES, False)
    assert done.stop and done.kappas[-WINDOW:] == [1.0] * WINDOW and ">= " + str(KAPPA) in done.message


def test_multi_label_models_are_compared_label_by_label() -> None:
    a = Snapshot(1, "m/1", {"k0": ("A", "B"), "k1": ("A",), "k2": ()})
    b = Snapshot(2, "m/2", {"k0": ("A",), "k1": ("A",), "k2": ("B",)})
    result = signal([a, b], ["A", "B"], True)
    assert len(result.kappas) == 1 and result.kappas[0] < 1
    assert "67%" in result.message  # two of three items' label sets differ
