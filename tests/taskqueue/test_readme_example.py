"""The README's taskqueue example does what its heading says: nothing lost."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
SLOW = "    ...  # slow: network, disk, matplotlib\n"


def test_the_readme_example_loses_no_upload_and_runs_the_last_live_frame():
    section = README.read_text(encoding="utf-8").split("## taskqueue", 1)[1]
    example = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    assert SLOW in example
    # A slow upload, so that the 64 slots fill up and the loop has to wait for room.
    uploads, lock = [], threading.Lock()  # lock guards uploads

    def slow_upload(step, path):
        time.sleep(0.0005)
        with lock:
            uploads.append((step, path))

    source = example.replace(SLOW, "    slow_upload(step, path)\n")
    namespace = {"__name__": "__main__", "slow_upload": slow_upload}
    exec(compile(source, str(README), "exec"), namespace)
    stats = namespace["q"].stats()
    assert stats.dropped == 0 and stats.failed == 0
    plots = sorted(step for step, path in uploads if path != "live.png")
    assert plots == list(range(0, 10_000, 100))  # every upload ran, once
    live = [step for step, path in uploads if path == "live.png"]
    assert live[-1] == 9_999  # the newest frame ran last
    assert stats.submitted == stats.completed + stats.coalesced == 10_100
