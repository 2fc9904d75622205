"""The ``gdplot`` command: ``demo``, ``train CSV --target COL`` and ``predict MODEL CSV``.

Plots render on a :class:`taskqueue.TaskQueue` while training runs; the command waits for
them at the end, showing how many are left. Every error is one line on stderr
(``gdplot: error: ...``) and an exit status: 2 for bad usage or input, 1 when training or
plotting fails. Notices (columns or rows left out) are lines ``gdplot: note: ...`` on stderr,
so that ``predict``'s stdout is only its CSV.

Each command has its module: :mod:`gdplot.cli.train`, :mod:`gdplot.cli.predict`,
:mod:`gdplot.cli.demo`; the parser is :mod:`gdplot.cli.parser`.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from gdplot.cli.errors import CommandError
from gdplot.cli.parser import build_parser
from gdplot.cli.signals import (
    TERMINATED_STATUS,
    Terminated,
    sigterm_as_interrupt,
    terminated,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    # Failed plots are summed up in one error line; their tracebacks would only be noise.
    quiet = logging.NullHandler()
    logging.getLogger("gdplot").addHandler(quiet)
    try:
        with sigterm_as_interrupt():  # SIGTERM cleans up as Ctrl-C does
            args = parser.parse_args(argv)
            return args.run(args)
    except CommandError as exc:
        print(f"gdplot: error: {exc}", file=sys.stderr)
        return exc.status
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt as exc:
        if isinstance(exc, Terminated) or terminated():  # SIGTERM, handled as Ctrl-C
            print("gdplot: terminated", file=sys.stderr)
            return TERMINATED_STATUS
        print("gdplot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `gdplot predict ... | head`
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), sys.stdout.fileno())  # no second error at exit
        return 1
    finally:
        logging.getLogger("gdplot").removeHandler(quiet)
