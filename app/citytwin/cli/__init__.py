"""The ``citytwin`` command: ``info``, ``convert``, ``feed``, ``sun``, ``analyze``, ``view``, ``render``,
``tour``.

Errors are one line on stderr and a non-zero exit; never a traceback unless
``--debug`` is given.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from ..core.errors import CityTwinError

log = logging.getLogger("citytwin")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="citytwin",
        description="A desktop 3D digital twin of a city. With no command, opens the demo scene.",
    )
    p.add_argument("--version", action="version", version=f"citytwin {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    from . import analyze, convert, feed, info, sun, whatif

    info.add_parser(sub)
    convert.add_parser(sub)
    feed.add_parser(sub)
    sun.add_parser(sub)
    analyze.add_parser(sub)
    whatif.add_parser(sub)
    try:
        from . import view
    except ImportError:  # the viewer commands come with the viewer
        view = None  # type: ignore[assignment]
    if view is not None:
        view.add_parser(sub)
        from . import tour

        tour.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``citytwin`` console script."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(args_list)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="citytwin: %(levelname)s: %(message)s",
    )
    if args.command is None:
        from .default import run_default

        handler = run_default
    else:
        handler = args.handler
    try:
        return int(handler(args) or 0)
    except CityTwinError as exc:
        if args.debug:
            raise
        print(f"citytwin: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("citytwin: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # last resort: one line, never a traceback
        if args.debug:
            raise
        msg = " ".join(str(exc).split()) or type(exc).__name__
        print(f"citytwin: internal error: {type(exc).__name__}: {msg} (run with --debug for details)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
