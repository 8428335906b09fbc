"""Run the musicgen command line: ``python -m musicgen --help``."""

from musicgen.cli import run

run()
