"""``python -m gdplot``: the same as the ``gdplot`` console script."""

from gdplot.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
