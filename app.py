"""Safety Partnership Atlas: ``python app.py [--host 127.0.0.1] [--port 8050]`` (PORT env honoured)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from dashboard.errors import DataFileError
from dashboard.serve.app import create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the Safety Partnership Atlas dashboard.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8050")))
    parser.add_argument("--debug", action="store_true", help="Dash dev tools and reloader")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app()
    except DataFileError as exc:
        logging.getLogger("atlas").error("cannot start: data file problem: %s", exc)
        return 2
    app.run(host=args.host, port=args.port, debug=args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
