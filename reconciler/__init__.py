"""stripe-reconciler: Stripe account configuration as code (plan, apply, drift)."""

__version__ = "0.1.0"

__all__ = ["__version__"]
