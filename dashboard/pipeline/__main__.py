"""Command line: ``python -m dashboard.pipeline build --sources ../shared/sources --out geodata/``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .build import build, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="rebuild geodata/ from the raw sources")
    build_cmd.add_argument("--sources", type=Path, default=Path("../shared/sources"))
    build_cmd.add_argument("--out", type=Path, default=Path("geodata"))
    build_cmd.add_argument(
        "--check", action="store_true", help="compare with the files in --out, write nothing"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    if not args.sources.is_dir():
        logging.error("sources folder not found: %s", args.sources)
        return 2
    try:
        result = build(args.sources, args.out)
    except (OSError, ValueError, KeyError) as exc:
        logging.error("build failed, nothing written: %s", exc)
        return 1
    if args.check:
        stale = [n for n, t in result.files.items() if (args.out / n).read_text(encoding="utf-8") != t]
        if stale:
            logging.error("out of date: %s", ", ".join(stale))
            return 1
        logging.info("geodata is up to date (%d files)", len(result.files))
        return 0
    write(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
