"""The doors in: lead intake, Twilio and Stripe webhooks. Verify, parse, store, enqueue, answer."""
