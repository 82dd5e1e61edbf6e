"""Campaigns: planned texts (review requests after a job; reactivation offers), each a row with
its due time (models.Enrollment), come due through the outbox and the scheduler, and written
then, or skipped with a reason. The text itself takes the one sending path (gates, exactly
once) on the bulk queue, never in front of a lead's reply."""
