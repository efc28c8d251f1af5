"""The `ftspec` command. Each command imports its stage inside the function, so `ftspec check` never pays for
the training stack (torch, transformers, peft, trl live only in the generated scripts).

Exit codes (a contract):
  0  success
  1  the gate failed: the model missed a threshold (or `build --check` found the build stale)
  2  the spec, the data or the arguments are invalid
  3  internal error (a bug, or a generated script that crashed)
"""

from __future__ import annotations

import functools
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from ftspec.errors import ExitCode, FtspecError

EXIT_CODES = ("Exit codes: 0 success · 1 gate failed (a threshold missed; stale build for build --check) · "
              "2 invalid spec, data or arguments · 3 internal error.")

app = typer.Typer(help="Decide whether and how to fine-tune an LLM, generate the scripts, run them, gate the "
                       "result.\n\n" + EXIT_CODES, no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False, rich_markup_mode=None)
data_app = typer.Typer(help="Audit and clean the training data named by a spec.", no_args_is_help=True)
app.add_typer(data_app, name="data")

SpecArg = Annotated[Path, typer.Argument(help="the project spec (YAML)", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON document instead of the summary")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="show tracebacks for errors")]


def guarded(func):
    """Turn FtspecError into a short message and its exit code; anything else is an internal error (exit 3)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        as_json, debug = kwargs.get("as_json", False), kwargs.get("debug", False)
        try:
            code = func(*args, **kwargs)
        except FtspecError as exc:
            if debug:
                traceback.print_exc()
            _report_error(exc, exc.exit_code, as_json)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence, by design
            if debug:
                traceback.print_exc()
            wrapped = FtspecError(f"internal error: {type(exc).__name__}: {exc}"
                                  + ("" if debug else " (rerun with --debug for the traceback)"))
            _report_error(wrapped, ExitCode.INTERNAL, as_json)
            raise typer.Exit(int(ExitCode.INTERNAL)) from None
        raise typer.Exit(int(code or 0))

    return wrapper


def _report_error(exc: FtspecError, code: ExitCode, as_json: bool) -> None:
    if as_json:
        from ftspec.ui.console import print_json

        print_json({"ok": False, "exit_code": int(code), "errors": exc.to_json()})
        return
    from ftspec.errors import SpecError
    from ftspec.ui.console import console

    err = console(stderr=True)
    lines = exc.lines()
    if isinstance(exc, SpecError):  # a count, then one located line per problem
        err.print(f"[bold red]error:[/] {exc}")
    else:
        lines = [f"error: {lines[0]}", *lines[1:]]
    for line in lines:
        err.print(line, markup=False)


@app.command()
@guarded
def check(spec: SpecArg, as_json: JsonOpt = False, debug: DebugOpt = False) -> int:
    """Validate the spec, audit its data, and decide whether and how to fine-tune."""
    from ftspec.compiler.pipeline import check_project

    result = check_project(spec)
    if as_json:
        from ftspec.ui.console import print_json

        print_json(result.to_json())
    else:
        from ftspec.ui.check import show_check

        show_check(result)
    return result.exit_code


@app.command()
@guarded
def explain(spec: SpecArg, as_json: JsonOpt = False, debug: DebugOpt = False) -> int:
    """Print the full reasoning behind the decision: approach, prerequisites, memory, method and settings."""
    from ftspec.compiler.pipeline import check_project

    result = check_project(spec)
    if as_json:
        from ftspec.ui.console import print_json

        print_json(result.to_json())
    else:
        from rich.markdown import Markdown

        from ftspec.compiler.report import decision_markdown
        from ftspec.ui.console import console

        # Markdown paragraphs wrap; with soft wrap they would be cropped at the edge instead.
        console().print(Markdown(decision_markdown(result.plan, result.audit, result.loaded)), soft_wrap=False)
    return 0


@app.command()
@guarded
def build(spec: SpecArg,
          out: Annotated[Path | None, typer.Option("--out", help="write here instead of build/ beside the spec")]
          = None,
          check_only: Annotated[bool, typer.Option("--check", help="exit 1 if the build is stale; write nothing")]
          = False,
          force: Annotated[bool, typer.Option("--force", help="build although a blocking prerequisite is unmet")]
          = False,
          as_json: JsonOpt = False, debug: DebugOpt = False) -> int:
    """Render the training and eval scripts, the accelerate config and the decision report."""
    from ftspec.compiler.build import build_command

    return build_command(spec, out=out, check_only=check_only, force=force, as_json=as_json)


@app.command()
@guarded
def run(spec: SpecArg,
        resume: Annotated[str | None, typer.Option("--resume", help="continue run ID (or 'last') from its "
                                                      "last checkpoint", show_default=False)] = None,
        build_dir: Annotated[Path | None, typer.Option("--build", help="the build folder (default: build/)")]
        = None,
        skip_eval: Annotated[bool, typer.Option("--no-eval", help="train only")] = False,
        force: Annotated[bool, typer.Option("--force", help="build although a blocking prerequisite is unmet")]
        = False,
        as_json: JsonOpt = False, debug: DebugOpt = False) -> int:
    """Build if stale, then train and generate eval predictions in a new run directory (runs/<id>/)."""
    from ftspec.runtime.command import run_command

    return run_command(spec, resume=resume, build_dir=build_dir, skip_eval=skip_eval, force=force, as_json=as_json)


@app.command(name="eval")
@guarded
def eval_(spec: SpecArg,
          run_id: Annotated[str | None, typer.Option("--run", help="the run to score (default: the latest)")]
          = None,
          as_json: JsonOpt = False, debug: DebugOpt = False) -> int:
    """Score a run's predictions against the spec's thresholds; exit 1 when the gate fails."""
    from ftspec.evals.command import eval_command

    return eval_command(spec, run_id=run_id, as_json=as_json)


@app.command()
@guarded
def runs(spec: SpecArg, as_json: JsonOpt = False, debug: DebugOpt = False) -> int:
    """List the runs of a project with their state and verdict."""
    from ftspec.runtime.command import runs_command

    return runs_command(spec, as_json=as_json)


@app.command()
@guarded
def schema(debug: DebugOpt = False) -> int:
    """Print the JSON Schema of the spec, for editors (yaml-language-server)."""
    from ftspec.spec.schema import schema_json

    sys.stdout.write(schema_json() + "\n")
    return 0


@app.command()
@guarded
def metrics(as_json: JsonOpt = False, debug: DebugOpt = False) -> int:
    """List the metrics a spec can gate on."""
    from ftspec.spec.vocab import METRICS

    if as_json:
        from ftspec.ui.console import print_json

        print_json({name: {"higher_is_better": m.higher_is_better, "needs": m.needs, "doc": m.doc}
                    for name, m in METRICS.items()})
        return 0
    from rich.table import Table

    from ftspec.ui.console import console

    table = Table("metric", "better", "needs", "what it measures", box=None)
    for name, info in METRICS.items():
        table.add_row(name, "higher" if info.higher_is_better else "lower", info.needs or "", info.doc)
    console().print(table)
    return 0


@app.command()
@guarded
def init(directory: Annotated[Path, typer.Argument(help="where to create the project")] = Path("."),
         debug: DebugOpt = False) -> int:
    """Scaffold a commented starter project that passes `ftspec check`."""
    from ftspec.spec.scaffold import scaffold

    for line in scaffold(directory):
        print(line)
    return 0


@app.command(name="demo-model")
@guarded
def demo_model(out: Annotated[Path, typer.Argument(help="the model folder to create")],
               pretrain_steps: Annotated[int, typer.Option(help="brief pre-training on unpaired domain text")] = 300,
               force: Annotated[bool, typer.Option("--force", help="rebuild even if it exists")] = False,
               debug: DebugOpt = False) -> int:
    """Make the tiny local Llama base model that the demo and the tests use (imports torch)."""
    from ftspec.demo.model import make_demo_model

    make_demo_model(out, pretrain_steps=pretrain_steps, force=force)
    return 0


@data_app.command(name="audit")
@guarded
def data_audit(spec: SpecArg,
               out: Annotated[Path | None, typer.Option("--out", help="write every flagged row here (JSONL)")]
               = None,
               as_json: JsonOpt = False, debug: DebugOpt = False) -> int:
    """Audit the data and list every flagged row."""
    from ftspec.data.commands import audit_command

    return audit_command(spec, out=out, as_json=as_json)


@data_app.command(name="clean")
@guarded
def data_clean(spec: SpecArg,
               out: Annotated[Path, typer.Option("--out", help="folder for the cleaned copy and its log")],
               as_json: JsonOpt = False, debug: DebugOpt = False) -> int:
    """Write a cleaned copy of the data with a log of what was removed and why. The original is never edited."""
    from ftspec.data.commands import clean_command

    return clean_command(spec, out=out, as_json=as_json)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
