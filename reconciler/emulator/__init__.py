"""A local, stateful, Stripe-compatible API for webhook endpoints and Stripe Tax (PRODUCT §7).

Entry points: :func:`reconciler.emulator.app.create_app` (ASGI, usable in-process with
``httpx.ASGITransport``), :class:`reconciler.emulator.server.EmulatorServer` (uvicorn in a
background thread) and ``stripe-reconciler emulator --port 12111 [--state-file PATH]``.
The operator API under ``/_emulator/`` is documented in :mod:`reconciler.emulator.app`.

It refuses exactly what Stripe documents as refused; where Stripe's documentation is silent it
accepts, because an invented refusal hides the reconciler's own bugs from every test (while the
emulator refused a second registration of one jurisdiction, no test could see apply create
one). Sources: FACTS.md and the API reference text in stripe-python 16.1.0's docstrings, cited
at each rule (:mod:`~reconciler.emulator.validation`, :mod:`~reconciler.emulator.errors` and the
modules in :mod:`reconciler.emulator.resources`). README's emulator section lists every rule.

Where Stripe's behaviour is unknown, what the emulator does:

- Parameters follow the newest API version the SDKs document (2026-10-28.endive,
  :func:`reconciler.data.spec`) under every ``Stripe-Version``; whether Stripe gates additions
  by version is not documented. ``x-stripeBypassValidation`` enums accept that version's values
  and nothing else (Stripe answers an unknown event with a 400).
- ``""`` is accepted only where the spec offers it (``description``, ``metadata``,
  ``expires_at`` on update); elsewhere it is Stripe's "cannot be unset" 400.
- ``head_office`` replaces the whole address; a head office without ``country`` is accepted.
- A second active or scheduled registration of one natural key is accepted
  (``refuse_duplicate_registrations`` refuses an overlapping one, for experiments). An expired
  registration can be updated; updates take past timestamps; a US/CA type without its
  sub-object is accepted; ``expires_at`` equal to ``active_from`` is accepted (never active),
  one before it is refused. The registrations list defaults to ``status=all``.
- A refused registration create (no head office, a past start) is not stored for its
  idempotency key, like any validation failure.
- Injected 429/500/503 happen in front of the idempotency layer: they are not stored, so a
  retry with the same key runs the request. ``drop_after`` commits (and stores the idempotent
  result) before cutting the connection; ``drop_before`` cuts it before anything runs.
- The 17th webhook endpoint of an account and mode gets a 400 ``invalid_request_error``
  (``param: url``, no code).
"""
