"""End-to-end: a saved plan applied after a newer plan's apply changed the same endpoint is
stale, not silently applied over it (review finding 3)."""

from __future__ import annotations

from pathlib import Path

from apply_helpers import endpoints, invoke, write_manifest

from reconciler.emulator.server import EmulatorServer

TEMPLATE = """\
version: 1
webhook_endpoints:
  x:
    url: {url}
    enabled_events: [invoice.paid]
    api_version: {version}
"""


def test_a_replace_done_by_a_newer_plan_makes_the_saved_plan_stale(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    sink = str(tmp_path / "s.env")
    manifest = write_manifest(
        tmp_path, TEMPLATE.format(url="https://u1.example.com/h", version="2026-08-26.dahlia")
    )
    assert (
        invoke(emulator, "apply", str(manifest), "--auto-approve", "--secrets-file", sink).code == 0
    )
    # P1: replace x (a create-only change), reviewed and saved
    manifest.write_text(
        TEMPLATE.format(url="https://u1.example.com/h", version="2026-09-30.endive")
    )
    saved = tmp_path / "p1.json"
    assert invoke(emulator, "plan", str(manifest), "--out", str(saved)).code == 0
    # meanwhile a newer plan replaces x at another URL, and is applied first
    newer = tmp_path / "newer"
    newer.mkdir()
    write_manifest(
        newer, TEMPLATE.format(url="https://u2.example.com/h", version="2026-09-30.endive")
    )
    assert invoke(emulator, "apply", str(newer), "--auto-approve", "--secrets-file", sink).code == 0
    run = invoke(emulator, "apply", "--plan", str(saved), "--secrets-file", sink)
    assert run.code == 1
    assert "the saved plan is stale" in run.stderr
    (live,) = endpoints(emulator)
    assert live["url"] == "https://u2.example.com/h"  # the newer apply's change stands
