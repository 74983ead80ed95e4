"""GitHub workflow commands: escaping as the runner reads it, and the annotation line."""

from __future__ import annotations

import pytest

from reconciler.workflow_commands import annotation, escape_data, escape_property


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("plain text", "plain text", "plain text"),
        ("50% off", "50%25 off", "50%25 off"),
        ("%0A is not a newline", "%250A is not a newline", "%250A is not a newline"),
        ("one\ntwo\r\nthree", "one%0Atwo%0D%0Athree", "one%0Atwo%0D%0Athree"),
        ("a: b, c", "a: b, c", "a%3A b%2C c"),
        ("::error::injected", "::error::injected", "%3A%3Aerror%3A%3Ainjected"),
        ("x\n::error::injected", "x%0A::error::injected", "x%0A%3A%3Aerror%3A%3Ainjected"),
    ],
)
def test_escaping(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data
    assert escape_property(text) == prop


def test_annotation_with_a_location() -> None:
    assert annotation("error", "bad\nvalue: 5%", file="a,b:c.yaml", line=3, col=7) == (
        "::error file=a%2Cb%3Ac.yaml,line=3,col=7::bad%0Avalue: 5%25"
    )


def test_annotation_with_a_title_and_no_location() -> None:
    assert annotation("warning", "m", title="Stripe drift: x, y") == (
        "::warning title=Stripe drift%3A x%2C y::m"
    )
    assert annotation("notice", "m") == "::notice::m"


def test_an_annotation_is_one_line_whatever_it_carries() -> None:
    line = annotation("warning", "a\r\nb\n::error::c", file="f\n.yaml", title="t\n::x")
    assert "\n" not in line and "\r" not in line
    # the runner ends the properties at the first "::": none may hold one
    command, message = line.removeprefix("::").split("::", 1)
    assert command == "warning file=f%0A.yaml,title=t%0A%3A%3Ax"
    assert message == "a%0D%0Ab%0A::error::c"
