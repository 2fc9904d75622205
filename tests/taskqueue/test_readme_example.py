"""The README's taskqueue example does what its heading says: nothing lost."""

from __future__ import annotations

import re
import threading
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _taskqueue_example() -> str:
    section = README.read_text(encoding="utf-8").split("## taskqueue", 1)[1]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


def test_the_readme_example_loses_no_upload_and_runs_the_last_live_frame():
    example = _taskqueue_example()
    # Record each upload as it runs: the example's own upload body stays (its sleep is what
    # fills the 64 slots, so that the loop has to wait for room).
    body = re.search(r"^def upload\(step, path\):\n(    .*\n)", example, flags=re.M)
    assert body is not None, "the taskqueue example no longer defines upload(step, path)"
    uploads, lock = [], threading.Lock()  # lock guards uploads

    def record(step, path):
        with lock:
            uploads.append((step, path))

    source = example.replace(body.group(0), body.group(0) + "    record(step, path)\n", 1)
    steps = int(re.search(r"for step in range\(([\d_]+)\)", example).group(1))
    namespace = {"__name__": "__main__", "record": record}
    exec(compile(source, str(README), "exec"), namespace)

    stats = namespace["q"].stats()
    assert stats.dropped == 0 and stats.failed == 0
    plots = sorted(step for step, path in uploads if path != "live.png")
    assert plots == list(range(0, steps, 100))  # every upload ran, once
    live = [step for step, path in uploads if path == "live.png"]
    assert live[-1] == steps - 1  # the newest frame ran last
    assert stats.submitted == stats.completed + stats.coalesced == steps + len(plots)
