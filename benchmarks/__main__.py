"""``python -m benchmarks run [--smoke] [--only NAME] [--out FILE]`` and ``python -m benchmarks report``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from benchmarks.common import RESULTS_DIR
from benchmarks.report import README, latest_results, write_readme
from benchmarks.runner import SECTIONS, default_out, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="run the benchmarks and write a results JSON")
    run_p.add_argument("--smoke", action="store_true", help="~5 s per benchmark, tiny N (what CI runs)")
    run_p.add_argument(
        "--only", action="append", choices=SECTIONS, help="run only this benchmark (repeatable)"
    )
    run_p.add_argument("--out", type=Path, help=f"results file (default {RESULTS_DIR}/<time>.json)")
    report_p = sub.add_parser("report", help="write the results table into benchmarks/README.md")
    report_p.add_argument("--results", type=Path, help="results file (default: newest full run)")
    report_p.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("benchmarks")

    if args.command == "run":
        out = args.out or default_out(args.smoke, args.only)
        results = run(args.smoke, args.only, out)
        failed = [n for n, s in results["sections"].items() if "error" in s]
        for goal in results["goals"]:
            state = {True: "met", False: "MISSED", None: "n/a"}[goal["met"]]
            log.info("%-6s %-11s %s: %s %s (%s)", state, goal["section"], goal["goal"], goal["value"],
                     goal["unit"], goal["margin"])  # fmt: skip
        log.info("results written to %s", out)
        if failed:
            log.error("benchmarks that failed: %s", ", ".join(failed))
            return 1
        return 0

    path = args.results or latest_results()
    if path is None:
        log.error("no results in %s: run `python -m benchmarks run` first", RESULTS_DIR)
        return 2
    results = json.loads(path.read_text())
    write_readme(results, path, args.readme)
    log.info("wrote the results of %s into %s", path, args.readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
