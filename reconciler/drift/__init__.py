"""Drift detection: a read-only view of the plan engine's diff, its renderers and alerts.

- :mod:`reconciler.drift.model`: the frozen, masked :class:`DriftReport` every output reads;
- :mod:`reconciler.drift.render`: text, json, markdown and github renderers;
- :mod:`reconciler.drift.alert`: webhook alert payloads and delivery with retries.
"""
