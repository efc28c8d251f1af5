"""`ftspec data audit SPEC [--out FILE]` and `ftspec data clean SPEC --out DIR`: run the audit with a sink that
lists or copies rows, then present what it found."""

from __future__ import annotations

from pathlib import Path

from ftspec.data.audit import Auditor
from ftspec.data.commands import Cleaner, FlaggedRows, _data_files, _refuse_originals
from ftspec.data.engines import make_auditor
from ftspec.data.findings import AuditReport
from ftspec.errors import ExitCode, UsageError
from ftspec.fsutil import display_path
from ftspec.spec.load import load_spec


def audit_command(spec: Path, out: Path | None = None, as_json: bool = False, engine: str = "local",
                  address: str | None = None) -> int:
    loaded = load_spec(spec)
    if out is not None:
        _refuse_originals(loaded, [out.resolve()], "--out would overwrite a data file; name another file")
    flagged = FlaggedRows(out) if out is not None else None
    try:
        report = make_auditor(loaded, flagged, engine, address).run()
    except BaseException:
        if flagged:
            flagged.discard()
        raise
    if flagged:
        flagged.commit()
    code = ExitCode.INVALID if report.errors else ExitCode.OK
    if as_json:
        from ftspec.ui.console import print_json

        print_json({"ok": code == ExitCode.OK, "exit_code": int(code), "audit": report.model_dump(mode="json"),
                    "flagged": None if flagged is None else {"path": display_path(out), "rows": flagged.rows,
                                                             "lines": flagged.lines}})
    else:
        _show_audit(report, out, flagged)
    return int(code)


def clean_command(spec: Path, out: Path, as_json: bool = False, fix_encoding: bool = False) -> int:
    loaded = load_spec(spec)
    folder = out.resolve()
    _refuse_originals(loaded, [folder / Path(name).name for name in _data_files(loaded)] + [folder],
                      "--out is the folder of the original data; write the cleaned copy to a new folder",
                      folders=True)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{out} is a file", "give --out a folder for the cleaned copy")
    folder.mkdir(parents=True, exist_ok=True)
    cleaner = Cleaner(loaded, folder, fix_encoding)
    try:
        report = Auditor(loaded, cleaner).run()
        summary = cleaner.commit(report)
    except BaseException:
        cleaner.discard()
        raise
    if as_json:
        from ftspec.ui.console import print_json

        print_json({"ok": True, "exit_code": 0, "out": str(out), "summary": summary})
    else:
        _show_clean(summary, out)
    return 0


def _show_audit(report: AuditReport, out: Path | None, flagged: FlaggedRows | None) -> None:
    from ftspec.ui.audit import render_audit
    from ftspec.ui.console import console

    screen = console()
    screen.print(render_audit(report))
    if flagged is not None:
        screen.print(f"wrote {flagged.lines:,} flags on {flagged.rows:,} rows to {out}", markup=False,
                     highlight=False)
    elif report.stats.get("flagged_rows"):
        screen.print("list every flagged row with --out flagged.jsonl", markup=False, highlight=False)


def _show_clean(summary: dict, out: Path) -> None:
    from ftspec.ui.console import console

    screen = console()
    for name, counts in summary["files"].items():
        screen.print(f"{name}: kept {counts['kept']:,}, removed {counts['removed']:,} -> {out / counts['written']}",
                     markup=False, highlight=False)
    if summary["removed_by_check"]:
        reasons = ", ".join(f"{check} {count:,}" for check, count in summary["removed_by_check"].items())
        screen.print(f"removed rows by check: {reasons}", markup=False, highlight=False)
    screen.print(f"log: {out / 'clean_log.jsonl'}; the original files are unchanged", markup=False, highlight=False)
