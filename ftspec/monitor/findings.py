"""The latest monitor report beside a spec, as evidence for the decision (`explain`: why retraining is due)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FindingReason:
    text: str  # what was measured, against which limit, in which windows
    spec_path: str  # the threshold that decided it: monitoring.refine_tune.novelty, metrics[1], ...
    location: str | None  # where the spec writes it (file:line:col); None where the default applied


@dataclass
class MonitorFindings:
    report: Path
    verdict: str  # ok | watch | refine_tune
    reasons: list[FindingReason] = field(default_factory=list)
    cadence: str | None = None
    windows: list[str] = field(default_factory=list)  # the windows that gave the verdict

    @property
    def retrain_due(self) -> bool:
        return self.verdict == "refine_tune"


def monitor_findings(spec_path: str | Path) -> MonitorFindings | None:
    """The newest monitor/<id>/report.json beside the spec (ids sort by time), or None if none can be read."""
    root = Path(spec_path).resolve().parent / "monitor"
    try:
        folders = sorted((p for p in root.iterdir() if (p / "report.json").is_file()), key=lambda p: p.name)
    except OSError:
        return None
    for folder in reversed(folders):
        try:
            report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        reasons = [FindingReason(f"{r['text']} (windows {', '.join(r.get('windows', []))})", r["spec_path"],
                                 None if r.get("location") in (None, "default") else r["location"])
                   for r in report.get("reasons", [])]
        windows = sorted({w for r in report.get("reasons", []) for w in r.get("windows", [])})
        return MonitorFindings(folder / "report.json", report.get("verdict", "ok"), reasons,
                               (report.get("cadence") or {}).get("suggested"), windows)
    return None
