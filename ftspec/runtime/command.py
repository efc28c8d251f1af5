"""The stage behind `ftspec run`: build if stale, then train.py and eval.py in a fresh runs/<id>/ folder (or a
resumed one). It returns a RunOutcome; ftspec.commands.run presents it. While the scripts run, it tells a view
(anything with the RunObserver methods) what happens, in plain text: the view chooses how it looks."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ftspec.errors import ExitCode, FtspecError
from ftspec.fsutil import file_sha256
from ftspec.runtime import buildstep
from ftspec.runtime.launch import ChildResult, node_train_argv, run_child
from ftspec.runtime.lock import run_lock
from ftspec.runtime.resume import last_checkpoint, resume_target
from ftspec.runtime.rundir import RunDir, Runs
from ftspec.runtime.status import RunStatus
from ftspec.runtime.trainlog import TrainProgress, read_rows

INTERRUPTED = 130  # the shell's code for a Ctrl-C


class RunObserver(Protocol):
    def tell(self, text: str, level: str | None = None) -> None: ...  # level: None, "note" or "warning"
    def start_train(self, train_log: Path) -> None: ...
    def start_eval(self) -> None: ...
    def tick(self) -> None: ...
    def stop(self) -> None: ...


@dataclass
class Run:
    spec_arg: str
    run_dir: RunDir
    build: Path
    status: RunStatus
    node_rank: int | None = None  # --node-rank: this machine starts its node's share of a multi-node training

    def save(self) -> None:
        self.run_dir.write_status(self.status)

    def log(self, stage: str) -> Path:
        return self.run_dir.log(stage)


@dataclass
class RunOutcome:
    """How a run ended: its exit code, and the stage whose script failed or was interrupted (None when it
    completed)."""

    run: Run
    code: int
    stopped_in: str | None = None
    skip_eval: bool = False

    @property
    def progress(self) -> TrainProgress:
        return _progress(self.run)

    @property
    def interrupted(self) -> bool:
        return self.code == INTERRUPTED

    def to_json(self) -> dict:
        progress, status, run = self.progress, self.run.status, self.run
        return {"ok": self.code == 0, "exit_code": int(self.code), "run_id": status.id,
                "run_dir": str(run.run_dir.path), "state": status.state, "stage": status.stage,
                "returncode": status.returncode, "steps": progress.step, "max_steps": progress.max_steps,
                "final_loss": progress.loss, "eval_loss": progress.eval_loss, "resumed_from": progress.resumed_from,
                "attempts": status.attempts, "logs": {s: str(run.log(s)) for s in ("train", "eval")}}


def run_training(spec: Path, view: RunObserver, resume: str | None = None, build_dir: Path | None = None,
                 skip_eval: bool = False, force: bool = False, node_rank: int | None = None) -> RunOutcome:
    spec = Path(spec)
    if node_rank:  # a node past the first joins the run rank 0 started (the newest, unless --resume names one)
        return _join(spec, resume or "last", build_dir, node_rank, view)
    if resume is None:
        return _run(_with_rank(_start(spec, build_dir, force, view), node_rank), view, skip_eval)
    run_dir, _ = Runs.for_spec(spec).find(resume)
    with run_lock(run_dir.path):  # two resumes of one run would train into the same folder
        # _resume reads the run's status again, under the lock: a resume that held it before may have moved it on
        return _run(_with_rank(_resume(spec, run_dir.id, build_dir, view), node_rank), view, skip_eval)


def _with_rank(run: Run, node_rank: int | None) -> Run:
    run.node_rank = node_rank
    return run


def _join(spec: Path, ref: str, build_dir: Path | None, rank: int, view) -> RunOutcome:
    """Node `rank` (> 0) trains in the run folder rank 0 owns (a filesystem both see); rank 0 alone writes the
    run's status and runs eval, so this node only logs to logs/train_node<rank>.log."""
    run_dir, status = Runs.for_spec(spec).find(ref)
    build = buildstep.build_folder(spec, build_dir)
    buildstep.require_build(build)
    args = ["--output-dir", str(run_dir.path)] + (["--resume"] if last_checkpoint(run_dir.path) else [])
    run = Run(str(spec), run_dir, build, status, node_rank=rank)
    argv = node_train_argv(build, rank, args)
    view.tell(f"node {rank} joins run {run_dir.id}  {run_dir.path}")
    view.start_train(run_dir.train_log)
    try:
        result = run_child(argv, cwd=build, log_path=run.log(f"train_node{rank}"), on_tick=view.tick)
    finally:
        view.stop()
    if result.signal is not None or result.returncode != 0:
        return RunOutcome(run, INTERRUPTED if result.signal is not None else int(ExitCode.INTERNAL),
                          stopped_in=f"train_node{rank}")
    return RunOutcome(run, int(ExitCode.OK), skip_eval=True)


def _run(run: Run, view: RunObserver, skip_eval: bool) -> RunOutcome:
    try:
        return _execute(run, view, skip_eval)
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
        view.tell(f"built {build} (it was stale or missing)")
    elif edited:
        view.tell(f"running {', '.join(edited)} as edited by hand in {build}", "note")
    run_dir, status = Runs.for_spec(spec).claim("train")
    shutil.copyfile(spec, run_dir.spec_snapshot)
    shutil.copyfile(build / buildstep.MANIFEST, run_dir.manifest)
    run = Run(str(spec), run_dir, build, status)
    view.tell(f"run {run_dir.id}  {run_dir.path}")
    return run


def _resume(spec: Path, ref: str, build_dir: Path | None, view) -> Run:
    path, status = resume_target(Runs.for_spec(spec).root, ref, str(spec))
    run_dir = RunDir(path)
    build = buildstep.build_folder(spec, build_dir)
    buildstep.require_build(build)  # a resume never rebuilds: the run continues with the scripts it started with
    if file_sha256(build / buildstep.MANIFEST) != file_sha256(run_dir.manifest):
        view.tell(f"{build} changed since run {run_dir.id} started; resuming with it anyway", "warning")
    status.move("running")
    run = Run(str(spec), run_dir, build, status)
    run.save()
    view.tell(f"resuming run {run_dir.id} ({'training' if status.stage == 'train' else 'eval'})  {run_dir.path}")
    return run


def _execute(run: Run, view: RunObserver, skip_eval: bool) -> RunOutcome:
    from ftspec.baseline.rag import RAG_SCRIPT, is_rag_build

    rag = is_rag_build(run.build)  # a RAG build trains nothing: its run is the eval stage alone
    if rag and run.status.stage == "train":
        run.status.stage = "eval"
        run.save()
    if run.status.stage == "train":
        args = ["--output-dir", str(run.run_dir.path)]
        if run.status.attempts > 1:  # train.py picks the last complete checkpoint, or starts over without one
            args.append("--resume")
            checkpoint = last_checkpoint(run.run_dir.path)
            view.tell(f"continuing from {checkpoint.name}" if checkpoint else "no checkpoint yet: training from the "
                     "beginning, in the same run folder")
        view.start_train(run.run_dir.train_log)
        argv = buildstep.script_argv(run.build, "train.py", args) if run.node_rank is None \
            else node_train_argv(run.build, run.node_rank, args)
        result = _launch(run, "train", argv, view)
        if result.signal is not None or result.returncode != 0:
            return _stopped(run, "train", result)
        run.status.stage = "eval"
        run.save()
    if not skip_eval:
        reuse = None if rag else _baseline_reuse(run, view)
        view.start_eval()
        script = RAG_SCRIPT if rag else "eval.py"
        args = ["--output-dir", str(run.run_dir.path)]
        if reuse is not None:  # the base model's rows come from the baseline measurement: generate the rest
            args += ["--models", ",".join(reuse.generated)]
        result = _launch(run, "eval", buildstep.script_argv(run.build, script, args), view)
        if result.signal is not None or result.returncode != 0:
            return _stopped(run, "eval", result)
        if reuse is not None:
            from ftspec.baseline.reuse import append_rows

            append_rows(run.run_dir, reuse)
            with open(run.log("eval"), "a", encoding="utf-8") as log:
                log.write(reuse.note() + "\n")
    run.status.move("completed", 0)
    run.status.eval_skipped = skip_eval
    run.save()
    return RunOutcome(run, int(ExitCode.OK), skip_eval=skip_eval)


def _baseline_reuse(run: Run, view):
    """The baseline measurement whose rungs stand in for eval.py's base models (ftspec.baseline.reuse), or None;
    any earlier attempt's record of reuse is dropped first, so the report never names rows this eval did not use."""
    from ftspec.baseline.reuse import SOURCES, find_reuse

    (run.run_dir.path / SOURCES).unlink(missing_ok=True)
    try:
        reuse = find_reuse(Path(run.spec_arg), run.build, run.run_dir)
    except (OSError, ValueError, FtspecError) as error:  # reuse saves time; it never stops a run's eval
        view.tell(f"the base model is generated again (its baseline predictions could not be read: {error})", "note")
        return None
    if reuse is not None:
        view.tell(reuse.note())
    return reuse


def _launch(run: Run, stage: str, argv: list[str], view) -> ChildResult:
    def record_child(pgid: int) -> None:
        run.status.child_pgid = pgid
        run.save()

    try:
        return run_child(argv, cwd=run.build, log_path=run.log(stage), on_tick=view.tick, on_start=record_child)
    finally:
        view.stop()


def _stopped(run: Run, stage: str, result: ChildResult) -> RunOutcome:
    """A script that was interrupted (exit 130) or failed (exit 3: the command shows its log and says so)."""
    interrupted = result.signal is not None
    run.status.move("interrupted" if interrupted else "failed", result.returncode)
    run.save()
    return RunOutcome(run, INTERRUPTED if interrupted else int(ExitCode.INTERNAL), stopped_in=stage)


def _progress(run: Run) -> TrainProgress:
    return TrainProgress.from_rows(read_rows(run.run_dir.train_log))
