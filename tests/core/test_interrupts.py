"""The Ctrl-C message names what an interrupted block keeps, even after the block has unwound."""

from __future__ import annotations

import pytest

from core import interrupts
from core.interrupts import NOTHING_WRITTEN, leaves, message


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interrupts, "_unwound", [])


def test_the_innermost_message_survives_the_unwinding() -> None:
    with (
        pytest.raises(KeyboardInterrupt),
        leaves("the push keeps the tasks imported so far."),
        leaves("run 3 is marked KILLED."),
    ):
        assert message() == "interrupted; run 3 is marked KILLED."
        raise KeyboardInterrupt
    assert message() == "interrupted; run 3 is marked KILLED."


def test_a_block_left_without_an_interrupt_says_nothing_afterwards() -> None:
    with leaves("kept"):
        pass
    assert message() == NOTHING_WRITTEN
