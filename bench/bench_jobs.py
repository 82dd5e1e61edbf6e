"""Jobs the benches put on the queues themselves, run by the real worker (on its PYTHONPATH)."""

from __future__ import annotations

import time

CAMPAIGN_SEND_S = 0.25  # about a Twilio call from a worker


def campaign_text(n: int) -> int:
    """Stands for one campaign text: low urgency, on the bulk queue, a Twilio call long."""
    time.sleep(CAMPAIGN_SEND_S)
    return n
