"""``python -m sms1708.config --example``: print the annotated example file, written from the
declaration (``> config/sms1708.example.toml`` to refresh the shipped one)."""

from __future__ import annotations

import argparse
import sys

from sms1708.config.example import example_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sms1708.config", description=__doc__)
    parser.add_argument(
        "--example", action="store_true", help="print the annotated example config file"
    )
    args = parser.parse_args(argv)
    if not args.example:
        parser.print_help()
        return 2
    sys.stdout.write(example_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
