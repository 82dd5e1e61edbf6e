"""`loopstrat <command>` in a child process on the test's clock (time-machine, ticking).

A test that runs real worker and scheduler processes moves their clock the way the `clock`
fixture moves its own: quiet hours are not what such a test is about.
Usage: python -m tests.daytime_cli <the test's now, ISO> <real time.time() then> <command...>
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

import time_machine

from loopstrat.cli import main

if __name__ == "__main__":
    test_now, real_then = datetime.fromisoformat(sys.argv[1]), float(sys.argv[2])
    # Start where the test's clock is now, not where it was when this process was spawned.
    moment = test_now + timedelta(seconds=time.time() - real_then)
    with time_machine.travel(moment, tick=True):
        time.time()  # time-machine starts the tick at the first reading, not at travel()
        main(sys.argv[3:])
