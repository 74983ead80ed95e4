"""A local, stateful, Stripe-compatible API for webhook endpoints and Stripe Tax (PRODUCT §7).

Entry points: :func:`reconciler.emulator.app.create_app` (ASGI, usable in-process with
``httpx.ASGITransport``), :class:`reconciler.emulator.server.EmulatorServer` (uvicorn in a
background thread) and ``stripe-reconciler emulator --port 12111 [--state-file PATH]``.
The operator API under ``/_emulator/`` is documented in :mod:`reconciler.emulator.app`.

Where Stripe's documentation is silent, the emulator takes the conservative reading:

- ``x-stripeBypassValidation`` enums accept the spec's values plus the newer API version's
  additions, nothing else (see :mod:`reconciler.emulator.validation`).
- ``""`` is accepted only where the spec offers it (``description``, ``metadata``,
  ``expires_at`` on update, metadata values); elsewhere it is Stripe's "cannot be unset" 400.
- A second active or scheduled tax registration with the same natural key is refused, and an
  expired registration can no longer be updated.
- Injected 429/500/503 happen in front of the idempotency layer: they are not stored, so a
  retry with the same key runs the request. ``drop_after`` commits (and stores the idempotent
  result) before cutting the connection; ``drop_before`` cuts it before anything runs.
- The 17th webhook endpoint of an account and mode gets a 400 ``invalid_request_error``.
"""
