"""`ftspec run` and `ftspec runs`: build if stale, then train.py and eval.py in a fresh runs/<id>/ folder."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from ftspec.errors import ExitCode, ScriptFailed
from ftspec.runtime import buildstep
from ftspec.runtime.launch import ChildResult, run_child
from ftspec.runtime.lock import run_lock
from ftspec.runtime.resume import last_checkpoint, resume_target
from ftspec.runtime.rundir import create_run_dir, find_run, runs_root
from ftspec.runtime.status import RunStatus, write_status
from ftspec.runtime.trainlog import TRAIN_LOG, TrainProgress, read_rows

INTERRUPTED = 130  # the shell's code for a Ctrl-C


@dataclass
class Run:
    spec_arg: str
    run_dir: Path
    build: Path
    status: RunStatus

    def save(self) -> None:
        write_status(self.run_dir, self.status)

    def log(self, stage: str) -> Path:
        return self.run_dir / "logs" / f"{stage}.log"


def run_command(spec: Path, resume: str | None = None, build_dir: Path | None = None, skip_eval: bool = False,
                force: bool = False, as_json: bool = False) -> int:
    from ftspec.ui.run import RunView

    spec = Path(spec)
    view = RunView.for_output(as_json)
    if resume is None:
        return _run(_start(spec, build_dir, force, view), view, skip_eval, as_json)
    run_dir, _ = find_run(runs_root(spec), resume)
    with run_lock(run_dir):  # two resumes of one run would train into the same folder
        # _resume reads the run's status again, under the lock: a resume that held it before may have moved it on
        return _run(_resume(spec, run_dir.name, build_dir, view), view, skip_eval, as_json)


def _run(run: Run, view, skip_eval: bool, as_json: bool) -> int:
    try:
        return _execute(run, view, skip_eval, as_json)
    except KeyboardInterrupt:  # between the scripts, where no child takes the signal
        run.status.move("interrupted", None)
        run.save()
        raise


def _start(spec: Path, build_dir: Path | None, force: bool, view) -> Run:
    from ftspec.compiler.pipeline import check_project

    result = check_project(spec)  # a bad spec stops here, before any folder is made
    build, rebuilt = buildstep.ensure_build(result, build_dir, force)
    buildstep.require_build(build)
    edited = buildstep.edited_files(build)
    if rebuilt:
        view.say(f"built {build} (it was stale or missing)")
    elif edited:
        view.say(f"[yellow]note:[/] running {', '.join(edited)} as edited by hand in {build}")
    run_dir = create_run_dir(runs_root(spec))
    shutil.copyfile(spec, run_dir / "spec.yaml")
    shutil.copyfile(build / buildstep.MANIFEST, run_dir / buildstep.MANIFEST)
    status = RunStatus(id=run_dir.name)
    status.claim()
    run = Run(str(spec), run_dir, build, status)
    run.save()
    view.say(f"run {run_dir.name}  {run_dir}")
    return run


def _resume(spec: Path, ref: str, build_dir: Path | None, view) -> Run:
    run_dir, status = resume_target(runs_root(spec), ref, str(spec))
    build = buildstep.build_folder(spec, build_dir)
    buildstep.require_build(build)  # a resume never rebuilds: the run continues with the scripts it started with
    if _digest(build / buildstep.MANIFEST) != _digest(run_dir / buildstep.MANIFEST):
        view.say(f"[yellow]warning:[/] {build} changed since run {run_dir.name} started; resuming with it anyway")
    status.move("running")
    run = Run(str(spec), run_dir, build, status)
    run.save()
    view.say(f"resuming run {run_dir.name} ({'training' if status.stage == 'train' else 'eval'})  {run_dir}")
    return run


def _execute(run: Run, view, skip_eval: bool, as_json: bool) -> int:
    from ftspec.baseline.rag import RAG_SCRIPT, is_rag_build

    rag = is_rag_build(run.build)  # a RAG build trains nothing: its run is the eval stage alone
    if rag and run.status.stage == "train":
        run.status.stage = "eval"
        run.save()
    if run.status.stage == "train" and not rag:
        args = ["--output-dir", str(run.run_dir)]
        if run.status.attempts > 1:  # train.py picks the last complete checkpoint, or starts over without one
            args.append("--resume")
            checkpoint = last_checkpoint(run.run_dir)
            view.say(f"continuing from {checkpoint.name}" if checkpoint else "no checkpoint yet: training from the "
                     "beginning, in the same run folder")
        view.start_train(run.run_dir / TRAIN_LOG)
        result = _launch(run, "train", buildstep.script_argv(run.build, "train.py", args), view)
        if result.signal is not None or result.returncode != 0:
            return _stopped(run, "train", result, view, as_json)
        run.status.stage = "eval"
        run.save()
    if not skip_eval:
        view.start_eval()
        script = RAG_SCRIPT if rag else "eval.py"
        result = _launch(run, "eval", buildstep.script_argv(run.build, script, ["--output-dir", str(run.run_dir)]),
                         view)
        if result.signal is not None or result.returncode != 0:
            return _stopped(run, "eval", result, view, as_json)
    run.status.move("completed", 0)
    run.status.eval_skipped = skip_eval
    run.save()
    return _finish(run, view, as_json, ExitCode.OK, skip_eval)


def _launch(run: Run, stage: str, argv: list[str], view) -> ChildResult:
    def record_child(pgid: int) -> None:
        run.status.child_pgid = pgid
        run.save()

    try:
        return run_child(argv, cwd=run.build, log_path=run.log(stage), on_tick=view.tick, on_start=record_child)
    finally:
        view.stop()


def _stopped(run: Run, stage: str, result: ChildResult, view, as_json: bool) -> int:
    interrupted = result.signal is not None
    run.status.move("interrupted" if interrupted else "failed", result.returncode)
    run.save()
    if interrupted:
        view.say(f"[yellow]interrupted[/] during {stage} at step {_progress(run).step}; resume with "
                 f"`ftspec run {run.spec_arg} --resume {run.run_dir.name}`")
        return _finish(run, view, as_json, INTERRUPTED)
    if as_json:
        return _finish(run, view, as_json, ExitCode.INTERNAL)
    from ftspec.ui.run import show_log_tail

    show_log_tail(run.log(stage))
    view.say(f"fix the cause, then continue with `ftspec run {run.spec_arg} --resume {run.run_dir.name}`")
    raise ScriptFailed(f"{stage}.py", result.returncode, str(run.log(stage)))


def _finish(run: Run, view, as_json: bool, code: int, skip_eval: bool = False) -> int:
    from ftspec.ui.run import fmt_number

    progress, status = _progress(run), run.status
    if as_json:
        from ftspec.ui.console import print_json

        print_json({"ok": code == 0, "exit_code": int(code), "run_id": status.id, "run_dir": str(run.run_dir),
                    "state": status.state, "stage": status.stage, "returncode": status.returncode,
                    "steps": progress.step, "max_steps": progress.max_steps, "final_loss": progress.loss,
                    "eval_loss": progress.eval_loss, "resumed_from": progress.resumed_from,
                    "attempts": status.attempts, "logs": {s: str(run.log(s)) for s in ("train", "eval")}})
    elif code == 0:
        view.say(f"[green]completed[/] run {status.id}: {progress.step} steps, final loss {fmt_number(progress.loss)}")
        if skip_eval:
            view.say(f"no eval (--no-eval): add it with `ftspec run {run.spec_arg} --resume {status.id}`")
        else:
            view.say(f"next: `ftspec eval {run.spec_arg} --run {status.id}`")
    return int(code)


def _progress(run: Run) -> TrainProgress:
    return TrainProgress.from_rows(read_rows(run.run_dir / TRAIN_LOG))


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def runs_command(spec: Path, as_json: bool = False) -> int:
    from ftspec.runtime.listing import run_rows
    from ftspec.spec.source import read_text

    spec = Path(spec)
    read_text(spec)  # a missing spec is an error; a broken one may still list its runs
    root = runs_root(spec)
    rows = run_rows(root)
    if as_json:
        from ftspec.ui.console import print_json

        print_json({"runs_dir": str(root), "runs": rows})
    else:
        from ftspec.ui.run import show_runs

        show_runs(rows, root)
    return 0
