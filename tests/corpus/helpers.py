"""Small builders shared by the corpus tests."""

from __future__ import annotations

import json
import random
from pathlib import Path

WORDS = [f"parola{i}" for i in range(3000)]


def article(seed: int, n: int = 200) -> str:
    rng = random.Random(seed)
    return ". ".join(" ".join(rng.choice(WORDS) for _ in range(10)) for _ in range(n // 10)) + "."


def jsonl(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"title": f"t{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    return path
