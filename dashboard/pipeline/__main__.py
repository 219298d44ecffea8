"""Command line: ``python -m dashboard.pipeline build --sources ../shared/sources --out geodata/``.

Exit status: 0 built (or up to date with ``--check``), 1 the build failed and nothing was
written (or ``--check`` found stale files), 2 bad arguments. A failure is one log line naming
the file and the problem; ``--debug`` adds the traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from dashboard.errors import DataFileError
from dashboard.pipeline.build import build, write
from dashboard.pipeline.io import describe

log = logging.getLogger("dashboard.pipeline")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="rebuild geodata/ from the raw sources")
    build_cmd.add_argument("--sources", type=Path, default=Path("../shared/sources"))
    build_cmd.add_argument("--out", type=Path, default=Path("geodata"))
    build_cmd.add_argument(
        "--check", action="store_true", help="compare with the files in --out, write nothing"
    )
    build_cmd.add_argument("--debug", action="store_true", help="debug logging and tracebacks")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )

    if not args.sources.is_dir():
        log.error("sources folder not found: %s", args.sources)
        return 2
    if not args.out.is_dir():
        log.error("output folder not found: %s (it holds the curated programs.csv and breaks.csv)", args.out)
        return 2
    try:
        result = build(args.sources, args.out)
        if args.check:
            stale = [n for n, t in result.files.items() if _read_or_none(args.out / n) != t]
            if stale:
                log.error("out of date: %s", ", ".join(stale))
                return 1
            log.info("geodata is up to date (%d files)", len(result.files))
            return 0
        write(result, args.out)
    except DataFileError as exc:
        log.error("build failed, nothing written: %s", exc)
        log.debug("traceback", exc_info=True)
        return 1
    except (OSError, MemoryError) as exc:
        log.error("build failed, nothing written: %s", describe(exc))
        log.debug("traceback", exc_info=True)
        return 1
    except Exception as exc:  # a bug, not a data problem: keep it to one line unless --debug
        log.error(
            "build failed, nothing written: unexpected %s (rerun with --debug for the traceback)",
            describe(exc),
        )
        log.debug("traceback", exc_info=True)
        return 1
    return 0


def _read_or_none(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


if __name__ == "__main__":
    sys.exit(main())
