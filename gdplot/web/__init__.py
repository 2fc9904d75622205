"""``gdplot serve``: a read-only web page of every run under a folder, updated live.

:class:`~gdplot.web.server.RunServer` serves it; :mod:`gdplot.web.runs` finds the runs and
what each offers.
"""

from gdplot.web.server import RunServer

__all__ = ["RunServer"]
