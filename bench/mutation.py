"""mutmut, as README's "Mutation testing" runs it, and the score per module.

    python -m bench.mutation run --max-children 3   # mutmut run (any mutmut command works)
    python -m bench.mutation scores                 # the per-module table; exit 1 under 90/95%

**One thing differs from plain ``mutmut``: how mypy's verdicts are matched to mutants.** mutmut
runs ``type_check_command`` (mypy, ``[tool.mutmut]``) once over all mutated sources, then finds the
mutant function around each error line by parsing every mutated module with libcst and its
position metadata: for this project, 23 modules of up to 15,000 lines, about 2.5 minutes on the
2-core machine, longer than mypy itself. The same line ranges come from the standard library's
``ast`` (``lineno``/``end_lineno``) in about a second, so ``run`` replaces that one function
(``filter_mutants_with_type_checker``, mutmut 3.8) with :func:`type_rejected_mutants`, which is
the same loop over the same mutmut helpers, and refuses to start on a mutmut whose function it
does not know (``pyproject.toml`` pins mutmut 3.8).
"""

from __future__ import annotations

import ast
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import mutmut.__main__ as mutmut_main
from mutmut.configuration import config
from mutmut.mutation import file_mutation
from mutmut.mutation.file_mutation import (
    FailedTypeCheckMutant,
    MutatedMethodLocation,
    group_by_path,
)
from mutmut.type_checking import run_type_checker
from mutmut.utils.file_utils import change_cwd
from mutmut.utils.format_utils import get_mutant_name, is_mutated_method_name

MUTANTS = Path("mutants")


def mutated_functions(path: Path, source: str) -> list[MutatedMethodLocation]:
    """Every mutant function of a mutated module with its lines from ``def`` to its end, as
    mutmut's libcst visitor finds them (top-level and class-level functions, none inside another;
    like libcst's position of a function, the range leaves its decorators out)."""
    found = []
    scopes: list[ast.AST] = [ast.parse(source, filename=str(path))]
    while scopes:
        for node in ast.iter_child_nodes(scopes.pop()):
            if isinstance(node, ast.ClassDef):
                scopes.append(node)
            elif isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef)
            ) and is_mutated_method_name(node.name):
                end = node.end_lineno or node.lineno
                found.append(MutatedMethodLocation(path, node.name, node.lineno, end))
    return found


def type_rejected_mutants() -> dict[str, FailedTypeCheckMutant]:
    """mutmut's ``filter_mutants_with_type_checker``, with ``ast`` in place of libcst."""
    with change_cwd(MUTANTS):
        rejected: dict[str, FailedTypeCheckMutant] = {}
        for path, errors in group_by_path(run_type_checker(config().type_check_command)).items():
            functions = mutated_functions(path, path.read_text(encoding="utf-8"))
            if not functions:
                continue
            for error in errors:
                mutant = next(
                    (
                        f
                        for f in functions
                        if f.line_number_start <= error.line_number <= f.line_number_end
                    ),
                    None,
                )
                if mutant is None:
                    raise click.ClickException(
                        f"mypy reported {error.file_path}:{error.line_number} outside any mutant "
                        f"({error.error_description}); the unmutated code must type-check"
                    )
                name = get_mutant_name(path.relative_to(Path.cwd()), mutant.function_name)
                rejected[name] = FailedTypeCheckMutant(
                    method_location=mutant, name=name, error=error
                )
        return rejected


# mutmut 3's exit codes (mutmut/stats.py, status_by_exit_code)
KILLED = {1, 3, 36, -24, 24, 152, 255}  # a failing test, or one that ran out of time
TYPE_REJECTED = {37}
SURVIVED = {0}
NO_TESTS = {5, 33}


@dataclass
class Score:
    """One module's mutants by outcome; caught = killed by a test or rejected by mypy."""

    module: str
    mutants: int = 0
    killed: int = 0
    mypy: int = 0
    survived: int = 0
    no_tests: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * (self.killed + self.mypy) / self.mutants if self.mutants else 100.0

    def add(self, other: Score) -> None:
        for name in ("mutants", "killed", "mypy", "survived", "no_tests"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def row(self, label: str = "") -> str:
        return (
            f"| {label or f'`{self.module}`'} | {self.mutants} | {self.killed} | {self.mypy} "
            f"| {self.survived} | {self.no_tests} | {self.percent:.1f}% |"
        )


def scores(mutants: Path) -> list[Score]:
    """The score of every mutated module, from the ``*.py.meta`` files ``mutmut run`` leaves.
    A suspicious or crashed mutant counts as a survivor; one never checked is an error."""
    table = []
    for meta in sorted(mutants.rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        if not codes:
            continue
        score = Score(meta.relative_to(mutants).as_posix().removesuffix(".meta"))
        for code in codes.values():
            if code is None:
                raise click.ClickException(f"{meta}: a mutant was never checked; finish the run")
            score.mutants += 1
            if code in KILLED:
                score.killed += 1
            elif code in TYPE_REJECTED:
                score.mypy += 1
            elif code in NO_TESTS:
                score.no_tests += 1
            else:
                score.survived += 1
        table.append(score)
    return table


@click.command(name="scores")
@click.option("--mutants", type=click.Path(path_type=Path), default=MUTANTS, show_default=True)
@click.option("--min-module", type=float, default=90.0, show_default=True)
@click.option("--min-total", type=float, default=95.0, show_default=True)
def scores_command(mutants: Path, min_module: float, min_total: float) -> None:
    """Print the score per module as a Markdown table; exit 1 when one is under its minimum."""
    table = scores(mutants)
    if not table:
        raise click.ClickException(f"no results in {mutants}/: run `mutmut run` first")
    total = Score("total")
    for score in table:
        total.add(score)
    click.echo(
        "| module | mutants | killed by a test | rejected by mypy | survived | no test | score |"
    )
    click.echo("|---|---:|---:|---:|---:|---:|---:|")
    for line in [*(s.row() for s in table), total.row("**total**")]:
        click.echo(line)
    accepted = total.mutants - total.mypy
    click.echo(
        f"\nOf the {accepted} mutants mypy accepts, the tests kill {total.killed} "
        f"({100.0 * total.killed / accepted if accepted else 100.0:.1f}%)."
    )
    low = [s.module for s in table if s.percent < min_module]
    if low or total.percent < min_total:
        raise click.ClickException(
            f"under {min_module}% per module or {min_total}% in total: "
            + (", ".join(low) or "the total")
        )


def main() -> None:
    # `type_check_command` names mypy: this environment's, also when its bin is not on PATH
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    if getattr(mutmut_main, "filter_mutants_with_type_checker", None) is not getattr(
        file_mutation, "filter_mutants_with_type_checker", object()
    ):
        sys.exit("bench.mutation knows mutmut 3.8's type-check filter only; see pyproject.toml")
    setattr(mutmut_main, "filter_mutants_with_type_checker", type_rejected_mutants)  # noqa: B010
    mutmut_main.cli.add_command(scores_command)
    mutmut_main.cli()


if __name__ == "__main__":
    main()
