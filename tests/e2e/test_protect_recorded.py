"""End-to-end: a protected endpoint removed from the manifests is not deleted (issue 13).

``lifecycle.protect`` is recorded on the endpoint (metadata ``reconciler_protect``), so the
protection outlives the manifest line; it is lifted only by a reviewed change that declares the
endpoint without it.
"""

from __future__ import annotations

from pathlib import Path

from apply_helpers import endpoints, invoke, write_manifest

from reconciler.emulator.server import EmulatorServer

PROTECTED = """\
version: 1
webhook_endpoints:
  orders:
    url: https://shop.example.com/hooks
    enabled_events: [invoice.paid]
    lifecycle: {protect: true}
"""
UNPROTECTED = PROTECTED.replace("    lifecycle: {protect: true}\n", "")
NONE = "version: 1\nwebhook_endpoints: {}\n"


def apply(emulator: EmulatorServer, manifest: Path, sink: Path, *extra: str) -> tuple[int, str]:
    run = invoke(
        emulator, "apply", str(manifest), "--auto-approve", "--secrets-file", str(sink), *extra
    )
    return run.code, run.stdout + run.stderr


def test_removing_a_protected_endpoint_needs_protect_lifted_first(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    sink = tmp_path / "s.env"
    manifest = write_manifest(tmp_path, PROTECTED)
    assert apply(emulator, manifest, sink)[0] == 0
    (endpoint,) = endpoints(emulator)
    assert endpoint["metadata"]["reconciler_protect"] == "true"

    manifest.write_text(NONE)
    for extra in ((), ("--force",)):
        code, output = apply(emulator, manifest, sink, *extra)
        assert code == 1
        assert "declare it again without lifecycle.protect and apply that" in output
        assert [e["id"] for e in endpoints(emulator)] == [endpoint["id"]]

    manifest.write_text(UNPROTECTED)
    code, output = apply(emulator, manifest, sink)
    assert code == 0, output
    assert "reconciler_protect" not in endpoints(emulator)[0]["metadata"]
    manifest.write_text(NONE)
    assert apply(emulator, manifest, sink)[0] == 0
    assert endpoints(emulator) == []
