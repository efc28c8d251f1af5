"""`ftspec run SPEC`: build if stale, train and predict in a new (or resumed) run folder, and say how it ended."""

from __future__ import annotations

from pathlib import Path

from ftspec.errors import ScriptFailed
from ftspec.runtime.command import RunOutcome, run_training


def run_command(spec: Path, resume: str | None = None, build_dir: Path | None = None, skip_eval: bool = False,
                force: bool = False, as_json: bool = False, node_rank: int | None = None) -> int:
    from ftspec.ui.run import RunView

    view = RunView.for_output(as_json)
    outcome = run_training(spec, view, resume=resume, build_dir=build_dir, skip_eval=skip_eval, force=force,
                           node_rank=node_rank)
    return present(outcome, view, as_json)


def present(outcome: RunOutcome, view, as_json: bool) -> int:
    """The JSON document, or the closing lines; a script that failed raises ScriptFailed (exit 3) after its log's
    tail, except under --json, where the document says it."""
    from ftspec.ui.run import fmt_number

    run, status = outcome.run, outcome.run.status
    if as_json:
        from ftspec.ui.console import print_json

        print_json(outcome.to_json())
        return outcome.code
    if outcome.interrupted:
        view.say(f"[yellow]interrupted[/] during {outcome.stopped_in} at step {outcome.progress.step}; resume with "
                 f"`ftspec run {run.spec_arg} --resume {status.id}`")
        return outcome.code
    if outcome.stopped_in is not None:
        from ftspec.ui.run import show_log_tail

        show_log_tail(run.log(outcome.stopped_in))
        view.say(f"fix the cause, then continue with `ftspec run {run.spec_arg} --resume {status.id}`")
        raise ScriptFailed(f"{outcome.stopped_in}.py", status.returncode, str(run.log(outcome.stopped_in)))
    if run.node_rank:  # a node past the first: rank 0 owns the run's status and its eval
        view.say(f"[green]node {run.node_rank} done[/] with its share of run {status.id}")
        return outcome.code
    view.say(f"[green]completed[/] run {status.id}: {outcome.progress.step} steps, final loss "
             f"{fmt_number(outcome.progress.loss)}")
    if outcome.skip_eval:
        view.say(f"no eval (--no-eval): add it with `ftspec run {run.spec_arg} --resume {status.id}`")
    else:
        view.say(f"next: `ftspec eval {run.spec_arg} --run {status.id}`")
    return outcome.code
