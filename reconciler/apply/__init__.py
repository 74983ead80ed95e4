"""The apply engine: the only code that writes to Stripe."""
