"""`loopstrat worker` with its clock moved to a given daytime moment (time-machine, ticking).

For the speed bench only, in the hour a day when no NANP zone Loopstrat texts is inside
8:00-21:00: the bench measures how fast a reply goes out, not whether quiet hours hold it.
Usage: python bench/daytime_worker.py 2026-11-25T18:00:00+00:00
"""

from __future__ import annotations

import sys
from datetime import datetime

import time_machine

from loopstrat.cli import main

if __name__ == "__main__":
    moment = datetime.fromisoformat(sys.argv[1])
    with time_machine.travel(moment, tick=True):
        main(["worker"])
