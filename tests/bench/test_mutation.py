"""bench/mutation.py: the ast-based mutant lookup and the score table (README "Mutation
testing")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.mutation import mutated_functions, scores, scores_command

MUTATED = """\
def plain(): pass

def x_top__mutmut_orig(a):
    return a

def x_top__mutmut_1(a):
    return None

class Kind:
    def method(self): pass

    @staticmethod
    def xǁKindǁread__mutmut_2(
        value,
    ):
        def x_inner__mutmut_9(): pass
        return value

async def x_fetch__mutmut_3():
    return 1
"""


def test_mutant_functions_are_found_with_their_lines_as_mutmut_finds_them() -> None:
    found = mutated_functions(Path("m.py"), MUTATED)
    assert sorted((f.function_name, f.line_number_start, f.line_number_end) for f in found) == [
        ("x_fetch__mutmut_3", 19, 20),
        ("x_top__mutmut_1", 6, 7),
        ("x_top__mutmut_orig", 3, 4),  # mutmut's name test takes the original too
        ("xǁKindǁread__mutmut_2", 13, 17),  # from its def; the nested def is not a mutant
    ]


def write_meta(root: Path, module: str, codes: Mapping[str, int | None]) -> None:
    meta = root / f"{module}.meta"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes}), encoding="utf-8")


def test_scores_count_tests_and_mypy_as_caught_and_no_test_as_a_survivor(tmp_path: Path) -> None:
    # killed 1, pytest internal error 3, timeout 36; mypy 37; survived 0; no tests 33 and 5;
    # suspicious 35 counts against the score
    write_meta(tmp_path, "pkg/a.py", {"a1": 1, "a2": 3, "a3": 36, "a4": 37, "a5": 0, "a6": 33})
    write_meta(tmp_path, "pkg/b.py", {"b1": 37, "b2": 5, "b3": 35, "b4": 1})
    write_meta(tmp_path, "pkg/empty.py", {})
    a, b = scores(tmp_path)
    assert (a.module, a.mutants, a.killed, a.mypy, a.survived, a.no_tests) == (
        "pkg/a.py",
        6,
        3,
        1,
        1,
        1,
    )
    assert (b.module, b.mutants, b.killed, b.mypy, b.survived, b.no_tests) == (
        "pkg/b.py",
        4,
        1,
        1,
        1,
        1,
    )
    assert a.row() == "| `pkg/a.py` | 6 | 3 | 1 | 1 | 1 | 66.7% |"


AT_THE_MINIMUM = {"a": 1, "b": 37, "c": 1, "d": 1, "e": 1, "f": 1, "g": 1, "h": 1, "i": 1, "j": 0}
ONE_UNDER = {**AT_THE_MINIMUM, "i": 33}


@pytest.mark.parametrize(
    ("codes", "exit_code", "tail"),
    [
        (
            AT_THE_MINIMUM,
            0,
            [
                "| **total** | 10 | 8 | 1 | 1 | 0 | 90.0% |",
                "",
                "Of the 9 mutants mypy accepts, the tests kill 8 (88.9%).",
            ],
        ),
        (
            ONE_UNDER,
            1,
            [
                "| **total** | 10 | 7 | 1 | 1 | 1 | 80.0% |",
                "",
                "Of the 9 mutants mypy accepts, the tests kill 7 (77.8%).",
                "Error: under 90.0% per module or 90.0% in total: pkg/a.py",
            ],
        ),
    ],
    ids=["at the minimum", "one under"],
)
def test_the_table_gates_on_the_minimum(
    tmp_path: Path, codes: dict[str, int], exit_code: int, tail: list[str]
) -> None:
    write_meta(tmp_path, "pkg/a.py", codes)
    args = ["--mutants", str(tmp_path), "--min-module", "90", "--min-total", "90"]
    result = CliRunner().invoke(scores_command, args)
    assert result.exit_code == exit_code, result.output
    assert result.output.splitlines()[-len(tail) :] == tail


def test_an_unfinished_run_is_an_error_not_a_score(tmp_path: Path) -> None:
    write_meta(tmp_path, "pkg/a.py", {"a1": 1, "a2": None})
    result = CliRunner().invoke(scores_command, ["--mutants", str(tmp_path)])
    assert result.exit_code == 1
    assert "a mutant was never checked" in result.output
