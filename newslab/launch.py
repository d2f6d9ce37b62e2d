"""The `newslab` command's entry point: imports nothing heavy before it can handle Ctrl-C.

Loading the CLI imports Typer, pydantic and the schema; a Ctrl-C during that second would
otherwise end in a traceback.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from newslab.cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; nothing was written.\n")
        sys.exit(130)
    cli_main()
