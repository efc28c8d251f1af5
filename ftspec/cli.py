"""The `ftspec` command: it parses the arguments and calls one command of ftspec.commands, which runs the stages and
presents their results. Each command is imported inside its function, so `ftspec check` never pays for the
training stack (torch, transformers, peft, trl live only in the generated scripts).

The parser is the standard library's argparse: a CLI framework costs 30-45 ms of every run (imports plus building
the command tree), a tenth of `ftspec check`'s 0.3 s budget.

Exit codes (a contract):
  0  success
  1  the gate failed: the model missed a threshold (or `build --check` found the build stale)
  2  the spec, the data or the arguments are invalid
  3  internal error (a bug, or a generated script that crashed)
  130  interrupted (Ctrl-C)
A reader that stops early (`ftspec check x | head -1`) changes nothing: the rest of the output is dropped quietly and
the exit code is still the command's own verdict.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path

from ftspec.errors import ExitCode, FtspecError

EXIT_CODES = ("exit codes: 0 success · 1 gate failed (a threshold missed; stale build for build --check) · "
              "2 invalid spec, data or arguments · 3 internal error · 130 interrupted")
INTERRUPTED = 130  # the shell's code for a Ctrl-C (128 + SIGINT)
DESCRIPTION = "Decide whether and how to fine-tune an LLM, generate the scripts, run them, gate the result."


# -- the commands: keyword arguments are the parsed options; the return value is the exit code --------------------

def check(spec: Path, as_json: bool, engine: str = "local", address: str | None = None) -> int:
    """Validate the spec, audit its data, and decide whether and how to fine-tune."""
    from ftspec.commands.check import check_command

    return check_command(spec, as_json=as_json, engine=engine, address=address)


def explain(spec: Path, as_json: bool) -> int:
    """Print the full reasoning behind the decision: approach, prerequisites, memory, method and settings."""
    from ftspec.commands.explain import explain_command

    return explain_command(spec, as_json=as_json)


def build(spec: Path, out: Path | None, check_only: bool, force: bool, as_json: bool) -> int:
    """Render the training and eval scripts, the accelerate config and the decision report."""
    from ftspec.commands.build import build_command

    return build_command(spec, out=out, check_only=check_only, force=force, as_json=as_json)


def run(spec: Path, resume: str | None, build_dir: Path | None, skip_eval: bool, force: bool, as_json: bool,
        node_rank: int | None = None) -> int:
    """Build if stale, then train and generate eval predictions in a new run directory (runs/<id>/)."""
    from ftspec.commands.run import run_command

    return run_command(spec, resume=resume, build_dir=build_dir, skip_eval=skip_eval, force=force, as_json=as_json,
                       node_rank=node_rank)


def eval_(spec: Path, run_id: str | None, as_json: bool, against: str | None = None) -> int:
    """Score a run's predictions against the spec's thresholds; exit 1 when the gate fails."""
    from ftspec.commands.eval import eval_command

    return eval_command(spec, run_id=run_id, as_json=as_json, against=against)


def runs(spec: Path, as_json: bool) -> int:
    """List the runs of a project with their state and verdict."""
    from ftspec.commands.runs import runs_command

    return runs_command(spec, as_json=as_json)


def schema(as_json: bool) -> int:
    """Print the JSON Schema of the spec, for editors (yaml-language-server)."""
    from ftspec.commands.schema import schema_command

    return schema_command(as_json=as_json)


def metrics(as_json: bool) -> int:
    """List the metrics a spec can gate on."""
    from ftspec.commands.metrics import metrics_command

    return metrics_command(as_json=as_json)


def init(directory: Path, as_json: bool) -> int:
    """Scaffold a commented starter project that passes `ftspec check`."""
    from ftspec.commands.init import init_command

    return init_command(directory, as_json=as_json)


def demo_model(out: Path, pretrain_steps: int, force: bool, as_json: bool, arch: str | None = None) -> int:
    """Make the tiny local Llama base model that the demo and the tests use (imports torch); with --arch, a
    random-init tiny model of another family."""
    from ftspec.commands.demo_model import demo_model_command

    return demo_model_command(out, pretrain_steps=pretrain_steps, force=force, as_json=as_json, arch=arch)


def data_audit(spec: Path, out: Path | None, as_json: bool, engine: str = "local", address: str | None = None) -> int:
    """Audit the data and list every flagged row."""
    from ftspec.commands.data import audit_command

    return audit_command(spec, out=out, as_json=as_json, engine=engine, address=address)


def data_clean(spec: Path, out: Path, as_json: bool, fix_encoding: bool = False) -> int:
    """Write a cleaned copy of the data with a log of what was removed and why. The original is never edited."""
    from ftspec.commands.data import clean_command

    return clean_command(spec, out=out, as_json=as_json, fix_encoding=fix_encoding)


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
    p.add_argument("--node-rank", type=int, metavar="N", help="start node N's share of a multi-node training")
    _force(p)


def _add_eval(commands) -> None:
    p = _spec(_command(commands, "eval", eval_))
    p.add_argument("--run", dest="run_id", metavar="ID",
                   help="the run to score: an id, a unique prefix of one, or last (the default)")
    p.add_argument("--against", metavar="RUN", help="also gate on no regression against `promoted` or a run")


def _add_init(commands) -> None:
    _command(commands, "init", init).add_argument(
        "directory", type=Path, nargs="?", default=Path("."), help="where to create the project (default: .)")


def _add_demo_model(commands) -> None:
    p = _command(commands, "demo-model", demo_model)
    p.add_argument("out", type=Path, metavar="OUT", help="the model folder to create")
    p.add_argument("--pretrain-steps", type=int, default=300, metavar="N",
                   help="brief pre-training on unpaired domain text (default: 300)")
    p.add_argument("--force", action="store_true", help="rebuild even if it exists")
    p.add_argument("--arch", choices=("llama", "qwen2", "gemma2", "mistral", "phi3", "gpt2", "t5"),
                   help="instead, a tiny random-init model of this family, with its real tokens and chat template")


def _add_data(commands) -> None:
    data = commands.add_parser("data", help="Audit and clean the training data named by a spec.",
                               description="Audit and clean the training data named by a spec.",
                               formatter_class=_Formatter)
    data.set_defaults(usage=data)
    data_commands = data.commands = data.add_subparsers(title="commands", metavar="COMMAND")
    p = _spec(_command(data_commands, "audit", data_audit))
    p.add_argument("--out", type=Path, metavar="FILE", help="write every flagged row here (JSONL)")
    _engine(p)
    p = _spec(_command(data_commands, "clean", data_clean))
    p.add_argument("--out", type=Path, metavar="DIR", required=True, help="folder for the cleaned copy and its log")
    p.add_argument("--fix-encoding", action="store_true", help="repair mojibake (ftfy) instead of removing the rows")


# -- monitor (issue 18) --------------------------------------------------------------------------------------------

def monitor(spec: Path, logs: list[Path] | None, out: Path | None, as_json: bool) -> int:
    """Watch production: drift against the training data, output health, quality; exit 1 when re-fine-tuning is due."""
    from ftspec.commands.monitor import monitor_command

    return monitor_command(spec, logs=logs, out=out, as_json=as_json)


def _add_monitor(commands) -> None:
    p = _spec(_command(commands, "monitor", monitor))
    p.epilog = ("exit codes: 0 ok or watch · 1 re-fine-tuning advised · 2 invalid spec, logs or arguments (no logs, "
                "an unreadable file, more bad rows than monitoring.max_bad_rows) · 3 internal error")
    p.add_argument("--logs", type=Path, nargs="+", metavar="PATH",
                   help="production logs (JSONL, CSV, Parquet); default: monitoring.logs in the spec")
    p.add_argument("--out", type=Path, metavar="DIR", help="where monitor/<id>/ folders go (default: monitor/ beside "
                                                          "the spec)")


def _engine(p):
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="where the data audit runs: this process, or Ray Data (the ray extra)")
    p.add_argument("--address", metavar="ADDR", help="a Ray cluster to join (with --engine ray; default: local Ray)")
    return p


# Each command adds its own subparser, in the order `ftspec --help` lists them.
COMMANDS: dict[str, Callable[..., None]] = {
    "check": lambda commands: _engine(_spec(_command(commands, "check", check))),
    "explain": lambda commands: _spec(_command(commands, "explain", explain)),
    "build": _add_build,
    "run": _add_run,
    "eval": _add_eval,
    "runs": lambda commands: _spec(_command(commands, "runs", runs)),
    "schema": lambda commands: _command(commands, "schema", schema),
    "metrics": lambda commands: _command(commands, "metrics", metrics),
    "init": _add_init,
    "demo-model": _add_demo_model,
    "data": _add_data,
    "monitor": _add_monitor,
}


# -- versions: compare runs, promote one, list the registry, export, read an A/B test (ftspec.commands -> versions) --

def compare(run_a: str, run_b: str, spec: Path | None, as_json: bool, intersection: bool,
            markdown: Path | None) -> int:
    """Compare two runs row by row: paired differences with CIs, p-values (Holm), the rows that changed."""
    from ftspec.commands.compare import compare_command

    return compare_command(run_a, run_b, spec=spec, as_json=as_json, intersection=intersection, markdown=markdown)


def promote(run: str, spec: Path | None, force: bool, as_json: bool) -> int:
    """Record a run that passed its gates as the project's current model (models.json beside the spec)."""
    from ftspec.commands.promote import promote_command

    return promote_command(run, spec=spec, force=force, as_json=as_json)


def models(spec: Path | None, as_json: bool) -> int:
    """List the promoted models of a project, newest first."""
    from ftspec.commands.promote import models_command

    return models_command(spec=spec, as_json=as_json)


def export(run: str, out: Path, spec: Path | None, keep_adapter: bool, force: bool, as_json: bool) -> int:
    """Export a run's model as safetensors with its tokenizer and a model card (imports torch)."""
    from ftspec.commands.export import export_command

    return export_command(run, out, spec=spec, keep_adapter=keep_adapter, force=force, as_json=as_json)


def ab(**options) -> int:
    """Read an A/B test log: per-variant rates or means, the difference with CI and p-value, power, a verdict."""
    from ftspec.commands.ab import ab_command

    return ab_command(**options)


def _project_spec(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spec", type=Path, metavar="SPEC", help="the project spec (default: ./project.yaml)")


def _add_compare(commands) -> None:
    p = _command(commands, "compare", compare)
    p.add_argument("run_a", metavar="RUN_A", help="`last`, `promoted`, an id or a unique prefix")
    p.add_argument("run_b", metavar="RUN_B", help="the run compared with RUN_A (differences are B - A)")
    _project_spec(p)
    p.add_argument("--intersection", action="store_true", help="compare on the examples both eval sets share")
    p.add_argument("--markdown", type=Path, metavar="FILE", help="also write the comparison as Markdown (PR comment)")


def _add_promote(commands) -> None:
    p = _command(commands, "promote", promote)
    p.add_argument("run", metavar="RUN", help="`last`, an id or a unique prefix")
    _project_spec(p)
    p.add_argument("--force", action="store_true", help="promote a run that did not pass its gates (recorded)")


def _add_export(commands) -> None:
    p = _command(commands, "export", export)
    p.add_argument("run", metavar="RUN", help="`last`, `promoted`, an id or a unique prefix")
    p.add_argument("--out", type=Path, metavar="DIR", required=True, help="the folder to write")
    _project_spec(p)
    p.add_argument("--keep-adapter", action="store_true", help="write the LoRA adapter apart instead of merging it")
    p.add_argument("--force", action="store_true", help="replace DIR if it exists")


def _add_ab(commands) -> None:
    p = _command(commands, "ab", ab)
    p.epilog = ("exit codes: 0 B better or no detectable difference · 1 B worse (significantly) · 2 invalid log or "
                "arguments · 3 internal error")
    p.add_argument("log", nargs="?", type=Path, metavar="LOG", help="JSONL or CSV: variant, outcome[, user_id]")
    p.add_argument("--metric", default="outcome", metavar="FIELD",
                   help="the outcome column: a success flag, a rating, a latency (default: outcome)")
    p.add_argument("--variant-field", default="variant", metavar="FIELD", help="the variant column (default: variant)")
    p.add_argument("--user-field", metavar="FIELD",
                   help="the user or session column (default: user_id, user, session_id or session if present)")
    p.add_argument("--control", metavar="NAME", help="the control variant (default: A, control, else the first name)")
    p.add_argument("--lower-is-better", action="store_true", default=None,
                   help="a lower outcome is better (default: only for a metric named *latency*)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default: 0.05)")
    p.add_argument("--power", type=float, default=0.8, help="target power (default: 0.8)")
    p.add_argument("--effect", type=float, metavar="D", help="the effect to detect (B - A, in the outcome's unit)")
    p.add_argument("--sequential", choices=("none", "obrien-fleming"), default="none",
                   help="a boundary valid under repeated looks (needs --planned-n)")
    p.add_argument("--planned-n", type=int, metavar="N", help="the rows the test will have in all (--sequential)")
    p.add_argument("--plan", action="store_true", help="before the test: rows needed for --baseline-rate and --effect")
    p.add_argument("--baseline-rate", type=float, metavar="P", help="the control's success rate (--plan)")


COMMANDS.update({
    "compare": _add_compare,
    "promote": _add_promote,
    "models": lambda commands: _project_spec(_command(commands, "models", models)),
    "export": _add_export,
    "ab": _add_ab,
})


# -- review: humans in the loop (issue 17; ftspec.commands.review -> ftspec.review) ----------------------------------

def review_export(run: str, out: Path, against: str | None, spec: Path | None, as_json: bool) -> int:
    """Export a stratified sample of a run's eval rows for people to rate (Label Studio project and CSV)."""
    from ftspec.commands.review import review_export_command

    return review_export_command(run, out, against=against, spec=spec, as_json=as_json)


def review_import(file: Path, run: str | None, spec: Path | None, as_json: bool) -> int:
    """Import ratings and preferences (Label Studio JSON export or the CSV), checked, into the run's folder."""
    from ftspec.commands.review import review_import_command

    return review_import_command(file, run=run, spec=spec, as_json=as_json)


def review_preferences(run: str, out: Path, spec: Path | None, as_json: bool) -> int:
    """Write a run's pairwise judgements as a preference dataset (prompt, chosen, rejected) for DPO."""
    from ftspec.commands.review import review_preferences_command

    return review_preferences_command(run, out, spec=spec, as_json=as_json)


def _add_review(commands) -> None:
    review = commands.add_parser("review", help="Put outputs in front of people and bring their judgement back.",
                                 description="Put outputs in front of people and bring their judgement back.",
                                 formatter_class=_Formatter)
    review.set_defaults(usage=review)
    review_commands = review.commands = review.add_subparsers(title="commands", metavar="COMMAND")
    p = _command(review_commands, "export", review_export)
    p.add_argument("run", metavar="RUN", help="`last`, `promoted`, an id or a unique prefix")
    p.add_argument("--against", metavar="RUN_B", help="a second run (or base_zero_shot, base_few_shot) for blind "
                                                      "pairwise preference")
    p.add_argument("--out", type=Path, metavar="DIR", required=True, help="the folder to write the project into")
    _project_spec(p)
    p = _command(review_commands, "import", review_import)
    p.add_argument("file", type=Path, metavar="FILE", help="Label Studio's JSON export, or the filled-in CSV")
    p.add_argument("--run", metavar="RUN", help="the run the reviews belong to (default: the one the tasks name)")
    _project_spec(p)
    p = _command(review_commands, "preferences", review_preferences)
    p.add_argument("run", metavar="RUN", help="`last`, `promoted`, an id or a unique prefix")
    p.add_argument("--out", type=Path, metavar="FILE", required=True, help="the JSONL preference file to write")
    _project_spec(p)


COMMANDS["review"] = _add_review


class _Version(argparse.Action):
    """`ftspec --version`: the installed distribution's version, read only when asked for."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0,
                         help="print ftspec's version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        sys.stdout.write(f"ftspec {version()}\n")
        parser.exit()


def version() -> str:
    from importlib import metadata

    from ftspec import __version__

    try:
        return metadata.version("ftspec")
    except metadata.PackageNotFoundError:
        return __version__


def baseline(spec: Path, model: str | None, as_json: bool) -> int:
    """Measure the prompting ladder (zero-shot, few-shot, retrieved few-shot, RAG) on the eval set, before training."""
    from ftspec.commands.baseline import baseline_command

    return baseline_command(spec, model=model, as_json=as_json)


def _add_baseline(commands) -> None:
    p = _spec(_command(commands, "baseline", baseline))
    p.add_argument("--model", metavar="NAME", help="measure this candidate model only (default: each with a path)")


COMMANDS["baseline"] = _add_baseline


# -- sweep (issue 16): hyperparameter search on the dev split -------------------------------------------------------

def sweep(spec: Path, resume: str | None, apply: bool, as_json: bool) -> int:
    """Search the spec's hyperparameters (grid, then Optuna TPE) on the dev split; --apply writes the best back."""
    from ftspec.commands.sweep import sweep_command

    return sweep_command(spec, resume=resume, apply=apply, as_json=as_json)


def _add_sweep(commands) -> None:
    p = _spec(_command(commands, "sweep", sweep))
    p.add_argument("--resume", nargs="?", const="last", metavar="ID",
                   help="continue a sweep (default: the last one); finished trials are never rerun")
    p.add_argument("--apply", action="store_true", help="write the best trial's settings into the spec's training:")


COMMANDS["sweep"] = _add_sweep


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command tree, or with `only` the one command named on the command line: building the eleven
    subparsers costs more than parsing (~6 ms a run), and a named command's own --help needs none of the others."""
    parser = argparse.ArgumentParser(prog="ftspec", description=DESCRIPTION, epilog=EXIT_CODES,
                                     formatter_class=_Formatter)
    parser.add_argument("--version", action=_Version)
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
        return INTERRUPTED
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
    sys.stdout, sys.stderr = ClosedPipeSafe(sys.stdout), ClosedPipeSafe(sys.stderr)
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # a closed pipe (`ftspec check x | head -1`): nothing more to say
            pass
    os._exit(code)


class ClosedPipeSafe:
    """A stream whose reader may go away (`ftspec check x | head -1`): once a write finds the pipe closed, the rest
    of the output is dropped, so the command finishes and exits with its own code instead of a BrokenPipeError (or
    rich's exit 1 for one) that a CI script would read as a failed gate."""

    def __init__(self, stream):
        self.stream = stream
        self.closed_pipe = False

    def write(self, text: str) -> int:
        if not self.closed_pipe:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self.closed_pipe = True
        return len(text)

    def flush(self) -> None:
        if not self.closed_pipe:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self.closed_pipe = True

    def __getattr__(self, name: str):  # isatty, fileno, encoding, ...: the stream's own
        return getattr(self.stream, name)


if __name__ == "__main__":
    entry()
