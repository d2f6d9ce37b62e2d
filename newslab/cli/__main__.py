"""`python -m newslab.cli`: the same entry point as the `newslab` command."""

from newslab.cli import main

main()
