"""A local, stateful, Stripe-compatible API for webhook endpoints and Stripe Tax (PRODUCT §7).

Entry points: :func:`reconciler.emulator.app.create_app` (ASGI, usable in-process with
``httpx.ASGITransport``), :class:`reconciler.emulator.server.EmulatorServer` (uvicorn in a
background thread) and the ``stripe-reconciler emulator`` command.
"""
