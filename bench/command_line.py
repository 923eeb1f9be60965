"""The command line the benchmarks share."""

from __future__ import annotations

import argparse


def leads_parser(description: str | None, *, leads: int) -> argparse.ArgumentParser:
    """A benchmark's arguments, starting with how many leads it sends (`--leads`); its
    `--help` shows `description` (the script's docstring) as written."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=leads)
    return parser
