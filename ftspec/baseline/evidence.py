"""The decision's evidence: the newest baseline measurement of each local candidate model whose keys match the
spec, data and model today. A stale measurement (anything changed since) is refused, with what changed."""

from __future__ import annotations

from dataclasses import dataclass, field

from ftspec.baseline.keys import changed, data_key, measurement_keys
from ftspec.baseline.store import baselines_root, stored
from ftspec.spec.load import LoadedSpec


@dataclass
class Rung:
    name: str
    label: str
    passed: bool
    gates: list[dict]

    @property
    def passed_gates(self) -> int:
        return sum(g["passed"] for g in self.gates)


@dataclass
class Measurement:
    id: str
    model: str
    rungs: list[Rung]


@dataclass
class Evidence:
    measurements: list[Measurement] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # why each refused measurement cannot be used

    @property
    def rungs(self) -> list[tuple[Measurement, Rung]]:
        return [(m, r) for m in self.measurements for r in m.rungs]


def read_evidence(loaded: LoadedSpec) -> Evidence:
    found = Evidence()
    if not baselines_root(loaded.root).is_dir():
        return found  # nothing measured: no hashing, `check` stays fast
    data = None
    for model in loaded.spec.models:
        if model.path is None or not loaded.resolve(model.path).is_dir():
            continue
        records = stored(loaded.root, model.name)
        if not records:
            continue
        data = data if data is not None else data_key(loaded)
        current = measurement_keys(loaded, model.path, data)
        match = next((s for s in records if s.record.get("keys") == current), None)
        if match is None:
            what = " and ".join(changed(records[0].record.get("keys") or {}, current))
            found.stale.append(f"baselines/{records[0].id} ({model.name}) is stale: {what} changed since it was "
                               "measured, so it is not used; rerun `ftspec baseline SPEC`")
            continue
        rungs = [Rung(name, r.get("label", name), bool(r.get("passed")), list(r.get("gates") or []))
                 for name, r in match.record.get("rungs", {}).items()]
        found.measurements.append(Measurement(match.id, model.name, rungs))
    return found


_CACHE: dict[int, tuple[LoadedSpec, Evidence]] = {}


def cached_evidence(loaded: LoadedSpec) -> Evidence:
    """read_evidence once per loaded spec: the approach and the prerequisites both ask (hashing data twice)."""
    hit = _CACHE.get(id(loaded))
    if hit is None or hit[0] is not loaded:
        if len(_CACHE) > 8:
            _CACHE.clear()
        hit = _CACHE[id(loaded)] = (loaded, read_evidence(loaded))
    return hit[1]


def _number(value: float | None) -> str:
    """As `ftspec eval` writes a value (evals.gates.fmt), without importing the scorers into `check`."""
    return "n/a" if value is None else f"{value + 0.0:.4g}"


def gate_text(gate: dict) -> str:
    where = "" if gate["slice"] == "all" else f" on {gate['slice']}"
    ci = gate.get("value_ci")
    interval = "n/a" if not ci else f"[{_number(ci[0])}, {_number(ci[1])}]"
    return f"{gate['label']}{where} {_number(gate['value'])} {interval}"


def best_rung(evidence: Evidence) -> tuple[Measurement, Rung] | None:
    """The rung that came closest: most gates passed, then the highest first gated value; on a tie the later rung
    (the most prompting could do)."""
    def closeness(item):
        gates = item[1].gates
        first = gates[0]["value"] if gates and gates[0]["value"] is not None else float("-inf")
        return item[1].passed_gates, first if gates and gates[0]["higher_is_better"] else -first
    return max(reversed(evidence.rungs), key=closeness, default=None)


def passing_text(measurement: Measurement, rung: Rung) -> str:
    scores = ", ".join(gate_text(g) + f" meets {g['threshold']}" for g in rung.gates)
    return (f"measured ({measurement.model}, baselines/{measurement.id}): {rung.label} passes every gate: {scores}; "
            "no fine-tune is needed")


def plateau_text(measurement: Measurement, rung: Rung) -> str:
    missed = [g for g in rung.gates if not g["passed"]]
    gaps = "; ".join(f"{gate_text(g)} against {g['threshold']}" for g in missed)
    return (f"measured ({measurement.model}, baselines/{measurement.id}): the best rung, {rung.label}, reaches "
            f"{gaps}: prompting has plateaued")

