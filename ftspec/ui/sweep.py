"""The sweep's live view (a line per trial: settings, objective, best so far) and its closing report."""

from __future__ import annotations

from ftspec.ui.console import console


def _settings(settings: dict) -> str:
    return " ".join(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
                    for key, value in settings.items())


def _objective(value) -> str:
    return "-" if value is None else f"{value:.4g}"


class SweepView:
    """Prints as trials start and end; with --json it says nothing (the document is the output)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.out = console(stderr=quiet)

    def tell(self, text: str, level: str | None = None) -> None:
        if not self.quiet:
            style = {"note": "cyan", "warning": "yellow"}.get(level or "")
            self.out.print(f"[{style}]{level}:[/] {text}" if style else text, highlight=False)

    def trial_started(self, number: int, settings: dict, run_id: str | None) -> None:
        self.tell(f"trial {number}  {_settings(settings)}  (run {run_id})")

    def trial_finished(self, row: dict, best: dict | None) -> None:
        note = row["skipped"] or (f"pruned at step {row['pruned_at_step']}" if row["state"] == "pruned" else "")
        note = note or row.get("error") or ""
        if (row.get("overfitting") or {}).get("detected"):
            note = (note + "; " if note else "") + "overfitting: " + row["overfitting"]["message"]
        best_text = f"best so far: trial {best['number']} ({_objective(best['objective'])})" if best else ""
        self.tell(f"trial {row['number']}  {_settings(row['settings'])}  {row['state']}  "
                  f"objective {_objective(row['objective'])}  {best_text}" + (f"  [{note}]" if note else ""))


def show_sweep(report: dict, diff: str | None = None) -> None:
    from rich.table import Table

    out = console()
    table = Table(title=f"sweep {report['sweep_id']}: {report['objective']} on the dev split ({report['direction']})")
    for name in ("#", "state", "settings", report["objective"], "note"):
        table.add_column(name)
    for row in report["trials"]:
        note = row["skipped"] or row.get("error") or ((row.get("overfitting") or {}).get("message") or "")
        table.add_row(str(row["number"]), row["state"], _settings(row["settings"]), _objective(row["objective"]),
                      note)
    out.print(table)
    if report.get("importances"):
        out.print("importance: " + ", ".join(f"{k} {v:.2f}" for k, v in report["importances"].items()))
    best = report.get("best")
    out.print(f"stopped: {report['stopped']}")
    if best:
        out.print(f"[green]best[/]: trial {best['number']}  {_settings(best['settings'])}  "
                  f"{report['objective']} {_objective(best['objective'])}  (run {best['run_id']})", highlight=False)
    out.print(f"report: {report['sweep_dir']}/sweep.json, sweep.html")
    if diff:
        out.print(diff, highlight=False, markup=False)
