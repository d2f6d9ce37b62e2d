"""The one exception type users see: a message and what to do about it."""

from __future__ import annotations


class NewslabError(Exception):
    """An error caused by input, configuration or environment, not by a bug.

    The CLI prints it as a short message (no traceback): ``message`` says what is
    wrong and names the file, line or field; ``hint`` says what to do.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class Unavailable(NewslabError):
    """Data that cannot be had here and now (not in the mirror, no source, the network down).

    Unlike a checksum mismatch, this is not a fault in the data: a job that can do without the
    data carries on and says what it left out.
    """
