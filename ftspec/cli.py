"""The `ftspec` command. Each command imports its stage inside the function, so `ftspec check` never pays for
the training stack (torch, transformers, peft, trl live only in the generated scripts).

The parser is the standard library's argparse: a CLI framework costs 30-45 ms of every run (imports plus building
the command tree), a tenth of `ftspec check`'s 0.3 s budget.

Exit codes (a contract):
  0  success
  1  the gate failed: the model missed a threshold (or `build --check` found the build stale)
  2  the spec, the data or the arguments are invalid
  3  internal error (a bug, or a generated script that crashed)
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path

from ftspec.errors import ExitCode, FtspecError

EXIT_CODES = ("exit codes: 0 success · 1 gate failed (a threshold missed; stale build for build --check) · "
              "2 invalid spec, data or arguments · 3 internal error")
DESCRIPTION = "Decide whether and how to fine-tune an LLM, generate the scripts, run them, gate the result."


# -- the commands: keyword arguments are the parsed options; the return value is the exit code --------------------

def check(spec: Path, as_json: bool) -> int:
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


def explain(spec: Path, as_json: bool) -> int:
    """Print the full reasoning behind the decision: approach, prerequisites, memory, method and settings."""
    from ftspec.compiler.pipeline import check_project

    result = check_project(spec)
    if as_json:
        from ftspec.ui.console import print_json

        print_json(result.to_json())
        return 0
    from rich.markdown import Markdown

    from ftspec.compiler.report import decision_markdown
    from ftspec.ui.console import console

    # Markdown paragraphs wrap; with soft wrap they would be cropped at the edge instead.
    console().print(Markdown(decision_markdown(result.plan, result.audit, result.loaded)), soft_wrap=False)
    return 0


def build(spec: Path, out: Path | None, check_only: bool, force: bool, as_json: bool) -> int:
    """Render the training and eval scripts, the accelerate config and the decision report."""
    from ftspec.compiler.build import build_command

    return build_command(spec, out=out, check_only=check_only, force=force, as_json=as_json)


def run(spec: Path, resume: str | None, build_dir: Path | None, skip_eval: bool, force: bool, as_json: bool) -> int:
    """Build if stale, then train and generate eval predictions in a new run directory (runs/<id>/)."""
    from ftspec.runtime.command import run_command

    return run_command(spec, resume=resume, build_dir=build_dir, skip_eval=skip_eval, force=force, as_json=as_json)


def eval_(spec: Path, run_id: str | None, as_json: bool) -> int:
    """Score a run's predictions against the spec's thresholds; exit 1 when the gate fails."""
    from ftspec.evals.command import eval_command

    return eval_command(spec, run_id=run_id, as_json=as_json)


def runs(spec: Path, as_json: bool) -> int:
    """List the runs of a project with their state and verdict."""
    from ftspec.runtime.command import runs_command

    return runs_command(spec, as_json=as_json)


def schema() -> int:
    """Print the JSON Schema of the spec, for editors (yaml-language-server)."""
    from ftspec.spec.schema import schema_json

    sys.stdout.write(schema_json() + "\n")
    return 0


def metrics(as_json: bool) -> int:
    """List the metrics a spec can gate on."""
    from ftspec.metrics import METRICS

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


def init(directory: Path) -> int:
    """Scaffold a commented starter project that passes `ftspec check`."""
    from ftspec.spec.scaffold import scaffold

    for line in scaffold(directory):
        print(line)
    return 0


def demo_model(out: Path, pretrain_steps: int, force: bool) -> int:
    """Make the tiny local Llama base model that the demo and the tests use (imports torch)."""
    from ftspec.demo.model import make_demo_model

    make_demo_model(out, pretrain_steps=pretrain_steps, force=force)
    return 0


def data_audit(spec: Path, out: Path | None, as_json: bool) -> int:
    """Audit the data and list every flagged row."""
    from ftspec.data.commands import audit_command

    return audit_command(spec, out=out, as_json=as_json)


def data_clean(spec: Path, out: Path, as_json: bool) -> int:
    """Write a cleaned copy of the data with a log of what was removed and why. The original is never edited."""
    from ftspec.data.commands import clean_command

    return clean_command(spec, out=out, as_json=as_json)


# -- the parser ----------------------------------------------------------------------------------------------------

class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=min(120, _terminal_width()))


@functools.cache
def _terminal_width() -> int:
    """Once a process: argparse makes a formatter for every argument it adds, to check the argument's metavar."""
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def _command(group, name: str, func: Callable[..., int], *, json: bool = True) -> argparse.ArgumentParser:
    summary = func.__doc__.split("\n")[0]
    parser = group.add_parser(name, help=summary, description=summary, epilog=EXIT_CODES, formatter_class=_Formatter)
    parser.set_defaults(func=func)
    if json:
        parser.add_argument("--json", dest="as_json", action="store_true",
                            help="print one JSON document instead of the summary")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    return parser


def _spec(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("spec", type=Path, metavar="SPEC", help="the project spec (YAML)")
    return parser


def _force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="build although a blocking prerequisite is unmet")


def _add_build(commands) -> None:
    p = _spec(_command(commands, "build", build))
    p.add_argument("--out", type=Path, metavar="DIR", help="write here instead of build/ beside the spec")
    p.add_argument("--check", dest="check_only", action="store_true",
                   help="exit 1 if the build is stale; write nothing")
    _force(p)


def _add_run(commands) -> None:
    p = _spec(_command(commands, "run", run))
    p.add_argument("--resume", metavar="ID", help="continue run ID (or 'last') from its last checkpoint")
    p.add_argument("--build", dest="build_dir", type=Path, metavar="DIR", help="the build folder (default: build/)")
    p.add_argument("--no-eval", dest="skip_eval", action="store_true", help="train only")
    _force(p)


def _add_eval(commands) -> None:
    p = _spec(_command(commands, "eval", eval_))
    p.add_argument("--run", dest="run_id", metavar="ID",
                   help="the run to score: an id, a unique prefix of one, or last (the default)")


def _add_init(commands) -> None:
    _command(commands, "init", init, json=False).add_argument(
        "directory", type=Path, nargs="?", default=Path("."), help="where to create the project (default: .)")


def _add_demo_model(commands) -> None:
    p = _command(commands, "demo-model", demo_model, json=False)
    p.add_argument("out", type=Path, metavar="OUT", help="the model folder to create")
    p.add_argument("--pretrain-steps", type=int, default=300, metavar="N",
                   help="brief pre-training on unpaired domain text (default: 300)")
    p.add_argument("--force", action="store_true", help="rebuild even if it exists")


def _add_data(commands) -> None:
    data = commands.add_parser("data", help="Audit and clean the training data named by a spec.",
                               description="Audit and clean the training data named by a spec.",
                               formatter_class=_Formatter)
    data.set_defaults(usage=data)
    data_commands = data.commands = data.add_subparsers(title="commands", metavar="COMMAND")
    p = _spec(_command(data_commands, "audit", data_audit))
    p.add_argument("--out", type=Path, metavar="FILE", help="write every flagged row here (JSONL)")
    p = _spec(_command(data_commands, "clean", data_clean))
    p.add_argument("--out", type=Path, metavar="DIR", required=True, help="folder for the cleaned copy and its log")


# -- monitor (issue 18) --------------------------------------------------------------------------------------------

def monitor(spec: Path, logs: list[Path] | None, out: Path | None, as_json: bool) -> int:
    """Watch production: drift against the training data, output health, quality; exit 1 when re-fine-tuning is due."""
    from ftspec.monitor.command import monitor_command

    return monitor_command(spec, logs=logs, out=out, as_json=as_json)


def _add_monitor(commands) -> None:
    p = _spec(_command(commands, "monitor", monitor))
    p.epilog = ("exit codes: 0 ok or watch · 1 re-fine-tuning advised · 2 invalid spec, logs or arguments (no logs, "
                "an unreadable file, more bad rows than monitoring.max_bad_rows) · 3 internal error")
    p.add_argument("--logs", type=Path, nargs="+", metavar="PATH",
                   help="production logs (JSONL, CSV, Parquet); default: monitoring.logs in the spec")
    p.add_argument("--out", type=Path, metavar="DIR", help="where monitor/<id>/ folders go (default: monitor/ beside "
                                                          "the spec)")


# Each command adds its own subparser, in the order `ftspec --help` lists them.
COMMANDS: dict[str, Callable[..., None]] = {
    "check": lambda commands: _spec(_command(commands, "check", check)),
    "explain": lambda commands: _spec(_command(commands, "explain", explain)),
    "build": _add_build,
    "run": _add_run,
    "eval": _add_eval,
    "runs": lambda commands: _spec(_command(commands, "runs", runs)),
    "schema": lambda commands: _command(commands, "schema", schema, json=False),
    "metrics": lambda commands: _command(commands, "metrics", metrics),
    "init": _add_init,
    "demo-model": _add_demo_model,
    "data": _add_data,
    "monitor": _add_monitor,
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command tree, or with `only` the one command named on the command line: building the eleven
    subparsers costs more than parsing (~6 ms a run), and a named command's own --help needs none of the others."""
    parser = argparse.ArgumentParser(prog="ftspec", description=DESCRIPTION, epilog=EXIT_CODES,
                                     formatter_class=_Formatter)
    parser.commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, add in COMMANDS.items():
        if only in (None, name):
            add(parser.commands)
    return parser


# -- running a command ---------------------------------------------------------------------------------------------

def _unknown_command(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """argparse (before 3.14) names every choice for a mistyped command; the nearest one helps more."""
    from ftspec.spec.hints import did_you_mean

    names = list(parser.commands.choices)
    words = [word for word in argv if not word.startswith("-")]
    if not words:
        return None
    if words[0] not in names:
        return f"unknown command `{words[0]}`; " + (did_you_mean(words[0], names) or "see `ftspec --help`")
    nested = parser.commands.choices[words[0]]
    return _unknown_command(nested, words[1:]) if hasattr(nested, "commands") else None


def main(argv: list[str] | None = None) -> int:
    """Parse, run one command, and turn every failure into a short message and its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
    unknown = _unknown_command(parser, argv)
    if unknown:
        print(f"error: {unknown}", file=sys.stderr)
        return int(ExitCode.INVALID)
    try:
        options = vars(parser.parse_args(argv))
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return int(exc.code or 0)
    func = options.pop("func", None)
    if func is None:  # `ftspec` or `ftspec data` alone
        options.get("usage", parser).print_help(sys.stderr)
        return int(ExitCode.INVALID)
    debug, as_json = options.pop("debug"), options.get("as_json", False)
    options.pop("usage", None)
    return _guarded(func, options, debug=debug, as_json=as_json)


def _guarded(func: Callable[..., int], options: dict, *, debug: bool, as_json: bool) -> int:
    try:
        with _data_progress():
            return int(func(**options) or 0)
    except FtspecError as exc:
        _report_error(exc, exc.exit_code, as_json, debug)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence, by design
        wrapped = FtspecError(f"internal error: {type(exc).__name__}: {exc}"
                              + ("" if debug else " (rerun with --debug for the traceback)"))
        _report_error(wrapped, ExitCode.INTERNAL, as_json, debug)
        return int(ExitCode.INTERNAL)


def _data_progress():
    """A bar on stderr during a long pass over the data, where stderr is a terminal (ftspec.ui.progress)."""
    if not sys.stderr.isatty():
        from contextlib import nullcontext

        return nullcontext()
    from ftspec.ui.progress import data_progress

    return data_progress()


def _report_error(exc: FtspecError, code: ExitCode, as_json: bool, debug: bool) -> None:
    if debug:
        import traceback

        traceback.print_exc()
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


def entry() -> None:
    """The console script. Start-up costs of a short-lived process go. As in mypy, the cyclic garbage collector
    runs ~90 times while pydantic and rich import (~15 ms of `check`), so it waits for 200k new objects instead of
    700 (a long command still collects); and the process leaves without the interpreter's teardown (freeing every
    module costs ~30 ms): every command has closed its files and children by now."""
    import gc
    import os

    gc.set_threshold(200_000, 30, 30)
    # pydantic looks for plugins in the entry points of every installed distribution (torch, transformers and ~150
    # more here) when it builds ftspec's first model: ~8 ms of every command, for plugins that ftspec's own spec
    # models have no use for. A user's own setting wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # a closed pipe (`ftspec check x | head -1`): nothing more to say
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
