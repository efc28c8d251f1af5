"""The sweep's loop: an Optuna study in SQLite (sweeps/<id>/study.db), one run folder of kind "trial" per trial.

Each trial runs the built train.py with its settings in a file (`--settings`), never a re-rendered script; train.py
evaluates on the dev split carved from train, so the eval set that gates the model never scores a trial. The study
is the record: a sweep killed with kill -9 resumes from it, the trials that finished are never rerun, and the one
cut short is queued again with its settings."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ftspec.compiler.pipeline import CheckResult
from ftspec.errors import UsageError
from ftspec.fsutil import atomic_write_text
from ftspec.runtime import buildstep
from ftspec.runtime.launch import run_child
from ftspec.runtime.lock import run_lock
from ftspec.runtime.rundir import SWEEPS, TRIALS, RunDir, Runs, create_run_dir, matching
from ftspec.runtime.trainlog import LogTail
from ftspec.spec.models import Sweep
from ftspec.sweep import space
from ftspec.sweep.fit import check_fit

STUDY_DB = "study.db"
STUDY_NAME = "sweep"
SETTINGS_FILE = "settings.json"  # in each trial's run folder: what train.py --settings reads
PRUNER_STARTUP = 2  # complete trials before the median pruner judges another


class SweepObserver(Protocol):
    def tell(self, text: str, level: str | None = None) -> None: ...
    def trial_started(self, number: int, settings: dict, run_id: str | None) -> None: ...
    def trial_finished(self, row: dict, best: dict | None) -> None: ...


@dataclass
class SweepOutcome:
    folder: Path
    study: object  # optuna.Study
    stopped: str  # why the loop ended
    interrupted: bool = False


def sweep_root(spec: Path) -> Path:
    return Path(spec).resolve().parent / SWEEPS


def run_sweep(result: CheckResult, view: SweepObserver, resume: str | None = None) -> SweepOutcome:
    sweep = ready_sweep(result)
    build, rebuilt = buildstep.ensure_build(result, None, False)
    buildstep.require_build(build)
    if rebuilt:
        view.tell(f"built {build} (it was stale or missing)")
    folder = _find(result.loaded.path, resume) if resume is not None else create_run_dir(sweep_root(result.loaded.path))
    _tracking_env(result)
    with run_lock(folder):
        study = open_study(folder, sweep, fresh=resume is None)
        requeued = recover(study)
        if requeued:
            view.tell(f"resuming sweep {folder.name}: {requeued} trial(s) cut short are queued again", "note")
        view.tell(f"sweep {folder.name}  {folder}")
        return _loop(result, sweep, study, folder, build, view)


def ready_sweep(result: CheckResult) -> Sweep:
    """The spec's sweep, when the plan fine-tunes and every searched key means something for its method."""
    sweep, plan = result.loaded.spec.sweep, result.plan
    if sweep is None:
        raise UsageError(f"{result.loaded.path} has no `sweep:` section", "add one; see docs/sweep.md")
    if not space.params(sweep):
        raise UsageError("sweep.space names no key to search", "e.g. `learning_rate: {low: 1e-5, high: 1e-3, "
                                                               "log: true}`; see docs/sweep.md")
    if not result.ok or plan.hyperparameters is None:
        raise UsageError("the plan cannot train yet, so there is nothing to sweep",
                         "`ftspec check SPEC` says what blocks it")
    method = plan.training_method
    allowed = {"lora_r", "lora_alpha", "lora_dropout"} if method.adapter.peft else set()
    allowed |= {s.name for s in method.objective.settings}
    for key in space.params(sweep):
        if (key in space.ADAPTER_KEYS or key == "dpo_beta") and key not in allowed:
            raise UsageError(f"sweep.space.{key}: the plan trains {plan.method} without it",
                             "remove the key, or choose a method that has it")
    if sweep.objective != "eval_loss" and sweep.objective not in {m.name for m in result.loaded.spec.metrics}:
        raise UsageError(f"sweep.objective: `{sweep.objective}` is not among the spec's metrics",
                         "use eval_loss or a metric the spec declares under `metrics:`")
    if not plan.data.dev_split.rows:
        raise UsageError("the dev split is empty: a sweep scores trials on rows carved from train",
                         f"add train rows (at least {plan.data.dev_split.min_train_rows})")
    return sweep


def _find(spec: Path, ref: str) -> Path:
    root = sweep_root(spec)
    names = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    found = matching(names, ref or "last")
    if len(found) != 1:
        raise UsageError(f"no single sweep `{ref or 'last'}` under {root}", "start one with `ftspec sweep SPEC`")
    return root / found[0]


def open_study(folder: Path, sweep: Sweep, fresh: bool):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    grid = space.grid(sweep) if sweep.strategy != "bayesian" else []
    startup = len(grid) if grid else max(2, min(10, sweep.max_trials // 3))
    sampler = optuna.samplers.TPESampler(seed=sweep.seed, n_startup_trials=startup)
    # the pruner compares dev losses: it judges an eval_loss objective only
    pruner = optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP) \
        if sweep.pruning and sweep.objective == "eval_loss" else optuna.pruners.NopPruner()
    if not fresh and not (folder / STUDY_DB).is_file():
        raise UsageError(f"{folder} has no {STUDY_DB}", "start a new sweep with `ftspec sweep SPEC`")
    study = optuna.create_study(storage=f"sqlite:///{folder / STUDY_DB}", study_name=STUDY_NAME,
                                direction=space.direction(sweep), sampler=sampler, pruner=pruner,
                                load_if_exists=not fresh)
    if fresh:
        study.set_user_attr("strategy", sweep.strategy)
        study.set_user_attr("grid_size", len(grid))
        for point in grid[: sweep.max_trials]:
            study.enqueue_trial(point)
    return study


def recover(study) -> int:
    """Trials left RUNNING by a killed sweep: marked failed (and `requeued`, so they do not count) and their
    settings queued again. Finished trials stay as they are and are never rerun."""
    from optuna.trial import TrialState

    cut = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.RUNNING]
    for trial in cut:
        study._storage.set_trial_user_attr(trial._trial_id, "requeued", True)
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        study.enqueue_trial(trial.params)
    return len(cut)


def counted(study) -> list:
    """The trials that count against max_trials: every finished one except those cut short and queued again."""
    return [t for t in study.get_trials(deepcopy=False) if t.state.is_finished() and not t.user_attrs.get("requeued")]


def _limit(study, sweep: Sweep) -> tuple[int, str]:
    if sweep.strategy == "grid":
        size = int(study.user_attrs.get("grid_size", sweep.max_trials))
        return min(size, sweep.max_trials), "the grid is done"
    return sweep.max_trials, f"max_trials ({sweep.max_trials}) reached"


def _loop(result, sweep: Sweep, study, folder: Path, build: Path, view: SweepObserver) -> SweepOutcome:
    server = _fork_server(build)
    try:
        return _loop_trials(result, sweep, study, folder, build, view, server)
    finally:
        if server is not None:
            server.close()


def _fork_server(build: Path):
    """A fork server that imports the training libraries once for every trial (~7 s a trial on 2 cores), where
    each trial is one `python train.py` (not an accelerate launch); FTSPEC_FORK_SERVER=0 turns it off."""
    if os.environ.get("FTSPEC_FORK_SERVER") == "0" or not sys.platform.startswith("linux") \
            or buildstep.script_argv(build, "train.py", [])[0:2] != [sys.executable, "train.py"]:
        return None
    from ftspec.runtime.prefork import ForkServer

    return ForkServer.start()


def _loop_trials(result, sweep: Sweep, study, folder: Path, build: Path, view: SweepObserver, server) -> SweepOutcome:
    from ftspec.sweep.report import best_row, trial_row

    limit, why = _limit(study, sweep)
    distributions = space.distributions(sweep)
    if sweep.parallel > 1:
        return _loop_parallel(result, sweep, study, folder, build, view, limit, why, server)
    while len(counted(study)) < limit:
        trial, settings, skipped, stop = _next_trial(result, sweep, study, distributions)
        if stop:
            return SweepOutcome(folder, study, f"max_gpu_hours ({sweep.max_gpu_hours:g}) reached")
        if not skipped and not _run_trial(study, trial, settings, folder, build, result.loaded, view, None, server):
            return SweepOutcome(folder, study, "interrupted", interrupted=True)
        view.trial_finished(trial_row(study.get_trials(deepcopy=False)[trial.number]), best_row(study))
    return SweepOutcome(folder, study, why)


def _next_trial(result, sweep: Sweep, study, distributions: dict):
    """(trial, settings, why it is not launched or None, whether the sweep stops here)."""
    from optuna.trial import TrialState

    trial = study.ask(distributions)
    settings = {key: space.typed(key, value) for key, value in trial.params.items()}
    fit = check_fit(result, settings)
    trial.set_user_attr("settings", settings)
    trial.set_user_attr("fit", fit.to_json())
    if not fit.fits:
        trial.set_user_attr("skipped", f"needs {fit.estimated_gb:g} GB of {fit.budget_gb:g} GB: never launched")
        study.tell(trial, state=TrialState.PRUNED)
        return trial, settings, "skipped", False
    if sweep.max_gpu_hours is not None and _spent(study) + (fit.gpu_hours or 0) > sweep.max_gpu_hours:
        trial.set_user_attr("skipped", f"max_gpu_hours ({sweep.max_gpu_hours:g}) would be passed")
        trial.set_user_attr("requeued", True)
        study.tell(trial, state=TrialState.FAIL)
        return trial, settings, "budget", True
    trial.set_user_attr("launched", True)
    return trial, settings, None, False


def _loop_parallel(result, sweep: Sweep, study, folder: Path, build: Path, view: SweepObserver, limit: int,
                   why: str, server=None) -> SweepOutcome:
    """`parallel` trials at once, each a thread waiting on its own train.py (Optuna's storage takes concurrent
    trials). Ctrl-C stops every running trial; `--resume` queues them again."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from ftspec.sweep.report import best_row, trial_row

    distributions, running, groups = space.distributions(sweep), {}, []
    stopped = why
    with ThreadPoolExecutor(max_workers=sweep.parallel) as pool:
        try:
            while True:
                while len(counted(study)) + len(running) < limit and len(running) < sweep.parallel \
                        and stopped == why:
                    trial, settings, skipped, stop = _next_trial(result, sweep, study, distributions)
                    if stop:
                        stopped = f"max_gpu_hours ({sweep.max_gpu_hours:g}) reached"
                    elif skipped:
                        view.trial_finished(trial_row(study.get_trials(deepcopy=False)[trial.number]),
                                            best_row(study))
                    else:
                        running[pool.submit(_run_trial, study, trial, settings, folder, build, result.loaded,
                                            view, groups, server)] = trial.number
                if not running:
                    return SweepOutcome(folder, study, stopped)
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    number = running.pop(future)
                    future.result()
                    view.trial_finished(trial_row(study.get_trials(deepcopy=False)[number]), best_row(study))
        except KeyboardInterrupt:
            for pgid in groups:
                _kill(pgid)
            raise


def _kill(pgid: int | None) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, TypeError):
        pass


def _spent(study) -> float:
    return sum((t.user_attrs.get("fit") or {}).get("gpu_hours") or 0.0 for t in study.get_trials(deepcopy=False)
               if t.user_attrs.get("launched") and not t.user_attrs.get("requeued"))


def _run_trial(study, trial, settings: dict, folder: Path, build: Path, loaded, view: SweepObserver,
               groups: list | None = None, server=None) -> bool:
    """Train one trial in its own run folder (and, for a metric objective, predict its dev split); False when the
    user interrupted it."""
    from optuna.trial import TrialState

    sweep = loaded.spec.sweep

    run_dir, status = Runs(folder / TRIALS).claim("trial")
    trial.set_user_attr("run_id", run_dir.id)
    settings_file = run_dir.path / SETTINGS_FILE
    atomic_write_text(settings_file, json.dumps(settings, indent=2, sort_keys=True) + "\n")
    shutil.copyfile(build / buildstep.MANIFEST, run_dir.manifest)
    view.trial_started(trial.number, settings, run_dir.id)
    args = ["--output-dir", str(run_dir.path), "--settings", str(settings_file)]
    if sweep.max_steps:
        args += ["--max-steps", str(sweep.max_steps)]
    watch = _Watch(trial, run_dir, sweep.pruning and sweep.objective == "eval_loss", groups)
    launch = server.run if server is not None else run_child
    child = launch(buildstep.script_argv(build, "train.py", args), cwd=build, log_path=run_dir.log("train"),
                   on_tick=watch.tick, on_start=watch.started)
    watch.tick(final=True)
    if child.signal is not None:
        status.move("interrupted", child.returncode)
        run_dir.write_status(status)
        trial.set_user_attr("requeued", True)
        study.tell(trial, state=TrialState.FAIL)
        return False
    if watch.pruned_at is not None:
        trial.set_user_attr("pruned_at_step", watch.pruned_at)
        _finish(run_dir, status, "completed", None)
        study.tell(trial, state=TrialState.PRUNED)
        return True
    objective = watch.last_eval
    _record_overfitting(trial, run_dir)
    if child.returncode == 0 and sweep.objective != "eval_loss":
        from ftspec.sweep.objective import dev_metric, predict_dev

        code = predict_dev(build, run_dir, watch.started, launch)
        objective = dev_metric(loaded, run_dir, sweep.objective) if code == 0 else None
        if code != 0:
            child.returncode = code
    if child.returncode != 0 or objective is None:
        trial.set_user_attr("error", f"a trial script exited {child.returncode}; see {run_dir.path / 'logs'}"
                            if child.returncode else f"no {sweep.objective} on the dev split")
        _finish(run_dir, status, "failed", child.returncode)
        study.tell(trial, state=TrialState.FAIL)
        return True
    _finish(run_dir, status, "completed", 0)
    study.tell(trial, objective)
    return True


def _finish(run_dir: RunDir, status, state: str, returncode: int | None) -> None:
    status.move(state, returncode)
    run_dir.write_status(status)


def _record_overfitting(trial, run_dir: RunDir) -> None:
    from ftspec.evals.overfit import detect_overfitting
    from ftspec.evals.runs import read_train_log

    found = detect_overfitting(read_train_log(run_dir.path))
    trial.set_user_attr("overfitting", {"detected": found["detected"], "message": found["message"]})


class _Watch:
    """Reads the trial's train log while it runs: reports each dev evaluation to Optuna and stops the process
    group when the pruner says the trial trails the median of earlier ones at the same step."""

    def __init__(self, trial, run_dir: RunDir, pruning: bool, groups: list | None = None):
        self.trial, self.tail, self.pruning = trial, LogTail(run_dir.train_log), pruning
        self.groups = groups if groups is not None else []  # every process group started: Ctrl-C stops them
        self.pgid: int | None = None
        self.last_eval: float | None = None
        self.pruned_at: int | None = None

    def started(self, pgid: int) -> None:
        self.pgid = pgid
        self.groups.append(pgid)

    def tick(self, final: bool = False) -> None:
        for row in self.tail.read_new():
            loss, step = row.get("eval_loss"), row.get("step")
            if row.get("type") != "eval" or not isinstance(loss, (int, float)) or not isinstance(step, int):
                continue
            self.last_eval = float(loss)
            self.trial.report(self.last_eval, step)
            if self.pruning and not final and self.pruned_at is None and self.trial.should_prune():
                self.pruned_at = step
                _kill(self.pgid)


def _tracking_env(result: CheckResult) -> None:
    """Trials that report to MLflow write to the project's store (beside the spec), not one per trial folder."""
    from ftspec.tracking import trackers

    if "mlflow" in trackers(result.loaded.spec.tracking):
        from ftspec.tracking.mlflow_log import tracking_uri

        os.environ.setdefault("MLFLOW_TRACKING_URI", tracking_uri(result.loaded.path, result.loaded.spec.tracking))
        os.environ.setdefault("MLFLOW_EXPERIMENT_NAME", result.loaded.spec.name)
