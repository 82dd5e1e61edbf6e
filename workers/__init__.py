"""RQ jobs and the scheduler. Thin doors: load by id, call loopstrat, record."""
