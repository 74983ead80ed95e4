"""A tiny in-memory stand-in for StripeClient, for fast executor unit tests.

It implements just what the executor sends (create/update/delete endpoints, registrations, tax
settings, lists) with idempotent replay by key, and records every call. The real emulator is
exercised by the end-to-end tests.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Mapping
from typing import Any

from reconciler.errors import APIError, InvalidRequestError, NotFoundError, ReconcilerError
from reconciler.stripe.client import StripeResponse


class FakeStripe:
    def __init__(self) -> None:
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.registrations: dict[str, dict[str, Any]] = {}
        # an account with a head office, which Stripe needs before any registration
        self.settings: dict[str, Any] = {
            "object": "tax.settings",
            "head_office": {"address": {"country": "US"}},
        }
        self.calls: list[tuple[str, str, dict[str, Any] | None, str | None]] = []
        self.replies: dict[str, dict[str, Any]] = {}
        self.fail_on: dict[tuple[str, str], ReconcilerError] = {}
        #: Stripe's limit of endpoints per account and mode (None: no limit); the fake refuses
        #: a create past it, so an apply that succeeds never went past it
        self.max_endpoints: int | None = None
        #: the most endpoints that ever existed at once
        self.peak_endpoints = 0
        self._next = 0

    def _id(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}_{self._next:04d}"

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _, _ in self.calls if m != "GET"]

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        params_copy = copy.deepcopy(dict(params)) if params is not None else None
        self.calls.append((method, path, params_copy, idempotency_key))
        failure = self.fail_on.get((method, path))
        if failure is not None:
            raise failure
        if idempotency_key is not None and idempotency_key in self.replies:
            # as Stripe does: the stored first answer, flagged Idempotent-Replayed
            replay = StripeResponse(copy.deepcopy(self.replies[idempotency_key]))
            replay.replayed = True
            return replay
        reply = self._handle(method, path, params_copy or {})
        if idempotency_key is not None:
            self.replies[idempotency_key] = copy.deepcopy(reply)
        return reply

    def _handle(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        parts = path.strip("/").split("/")
        if path == "/v1/webhook_endpoints" and method == "POST":
            if self.max_endpoints is not None and len(self.endpoints) >= self.max_endpoints:
                raise InvalidRequestError(
                    f"You have reached the maximum of {self.max_endpoints} test webhook endpoints.",
                    http_status=400,
                )
            obj_id = self._id("we")
            metadata = {k: v for k, v in (params.get("metadata") or {}).items() if v != ""}
            obj = {
                "id": obj_id,
                "object": "webhook_endpoint",
                "url": params["url"],
                "enabled_events": list(params["enabled_events"]),
                "metadata": metadata,
                "status": "enabled",
                "api_version": params.get("api_version"),
                "description": params.get("description"),
                "created": self._next,
            }
            self.endpoints[obj_id] = obj
            self.peak_endpoints = max(self.peak_endpoints, len(self.endpoints))
            return {**obj, "secret": f"whsec_fake{obj_id}"}
        if parts[:2] == ["v1", "webhook_endpoints"] and len(parts) == 3:
            obj = self.endpoints.get(parts[2])
            if obj is None:
                raise NotFoundError("No such webhook endpoint", http_status=404)
            if method == "DELETE":
                del self.endpoints[parts[2]]
                return {"id": parts[2], "deleted": True}
            for key, value in params.items():
                if key == "metadata":
                    for mk, mv in value.items():
                        if mv == "":
                            obj["metadata"].pop(mk, None)
                        else:
                            obj["metadata"][mk] = mv
                elif key == "disabled":
                    obj["status"] = "disabled" if value else "enabled"
                else:
                    obj[key] = value
            return copy.deepcopy(obj)
        if path == "/v1/tax/registrations" and method == "POST":
            obj_id = self._id("taxreg")
            # a start in the future makes a scheduled registration; `now` starts at 1
            start = params.get("active_from")
            starts = start if isinstance(start, int) else 1
            obj = {
                "id": obj_id,
                "object": "tax.registration",
                "country": params["country"],
                "country_options": params["country_options"],
                "active_from": starts,
                "expires_at": params.get("expires_at"),
                "status": "scheduled" if starts > 1 else "active",
            }
            self.registrations[obj_id] = obj
            return copy.deepcopy(obj)
        if parts[:3] == ["v1", "tax", "registrations"] and len(parts) == 4:
            if parts[3] not in self.registrations:
                raise NotFoundError("No such registration", http_status=404)
            obj = self.registrations[parts[3]]
            obj.update(params)
            if params.get("expires_at") == "now":
                obj["status"] = "expired"
            return copy.deepcopy(obj)
        if path == "/v1/tax/settings" and method == "POST":
            self.settings.update(params)
            return copy.deepcopy(self.settings)
        raise APIError(f"fake cannot handle {method} {path}")

    async def paginate(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        self.calls.append(("GET", path, dict(params or {}), None))
        failure = self.fail_on.get(("GET", path))
        if failure is not None:
            raise failure
        store = self.endpoints if path == "/v1/webhook_endpoints" else self.registrations
        for obj in list(store.values()):
            yield copy.deepcopy(obj)
