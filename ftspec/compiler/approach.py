"""Prompting, RAG or fine-tuning: the seeds' matrix applied to the spec's needs, what was tried, and the cost.

Each conclusion carries reasons that point at the spec line that caused them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ftspec.compiler.cost import BREAK_EVEN_MONTHS, CostComparison, estimate_training, payback_label
from ftspec.compiler.plan import Approach, LadderGate, LadderRow, Prerequisite, Reason
from ftspec.data.findings import AuditReport
from ftspec.spec.load import LoadedSpec
from ftspec.spec.source import dotted

KNOWLEDGE_NEEDS = ("new_knowledge", "realtime_updates", "citations")
BEHAVIOUR_NEEDS = ("strict_format", "niche_vocabulary", "tone_style", "domain_expertise")
PROMPT_APPROACHES = ("prompting", "few_shot_prompting")


@dataclass
class ApproachResult:
    approach: Approach
    reasons: list[Reason] = field(default_factory=list)
    provisional: Approach | None = None  # what the needs point to while nothing is measured (build --force builds it)
    ladder: list[LadderRow] = field(default_factory=list)  # measured rungs, then declared `tried` scores


@dataclass
class TriedOutcome:
    index: int
    approach: str
    missed: list[tuple[str, float, str]]  # (metric, score, threshold) below the bar
    met: list[str]

    @property
    def plateaued(self) -> bool:
        return bool(self.missed)

    @property
    def meets_bar(self) -> bool:
        return bool(self.met) and not self.missed


def reason(loaded: LoadedSpec, text: str, *path: str | int) -> Reason:
    if not path:
        return Reason(text=text)
    return Reason(text=text, spec_path=dotted(path), location=str(loaded.locate(*path)))


def tried_outcomes(loaded: LoadedSpec) -> list[TriedOutcome]:
    """Each tried approach's scores against the absolute thresholds on the whole eval set."""
    bars = {m.name: m.threshold for m in loaded.spec.metrics if m.vs_baseline is None and m.slice == "all"}
    outcomes = []
    for i, tried in enumerate(loaded.spec.requirements.tried):
        missed, met = [], []
        for metric, score in tried.scores.items():
            if metric in bars and bars[metric].passes(score):
                met.append(metric)
            elif metric in bars:
                missed.append((metric, score, str(bars[metric])))
        outcomes.append(TriedOutcome(i, tried.approach, missed, met))
    return outcomes


def choose_approach(loaded: LoadedSpec, cost: CostComparison | None) -> ApproachResult:
    needs = loaded.spec.requirements.needs
    out = ApproachResult("prompting")
    r = out.reasons

    def need_reason(name: str, text: str) -> None:
        r.append(reason(loaded, text, "requirements", "needs", needs.index(name)))

    knowledge = [n for n in needs if n in KNOWLEDGE_NEEDS]
    behaviour = [n for n in needs if n in BEHAVIOUR_NEEDS]
    for n in knowledge:
        need_reason(n, f"`{n}` is knowledge the model must look up at answer time: retrieval (RAG) supplies it; "
                       "fine-tuning does not keep facts current or cite sources")
    for n in behaviour:
        need_reason(n, f"`{n}` is behaviour the model must learn: fine-tuning teaches it")

    outcomes = tried_outcomes(loaded)
    tried_any = bool(loaded.spec.requirements.tried)
    evidence = baseline_evidence(loaded)
    plateaued = [o for o in outcomes if o.plateaued and o.approach in (*PROMPT_APPROACHES, "rag")]
    for o in plateaued:
        metric, score, bar = o.missed[0]
        r.append(reason(loaded, f"{o.approach} was tried and plateaued (declared): {metric} {score:g} misses "
                                f"{bar}; fine-tune", "requirements", "tried", o.index, "scores", metric))
    meeting = [o for o in outcomes if o.meets_bar and o.approach in (*PROMPT_APPROACHES, "rag")]
    for o in outcomes:
        if o.approach == "fine_tuning":
            r.append(reason(loaded, "fine-tuning was tried before; this plan repeats it with the spec's settings",
                            "requirements", "tried", o.index))
        elif not o.met and not o.missed:
            r.append(reason(loaded, f"{o.approach} was tried but no score matches a metric's threshold, so "
                                    "ftspec cannot tell whether it plateaued; add its scores",
                            "requirements", "tried", o.index))

    cost_says_ft = _cost_reason(loaded, cost, r)
    r.extend(Reason(text=text) for text in evidence.stale)
    out.ladder = measured_ladder(evidence) + declared_ladder(loaded)
    if evidence.measurements:  # a measurement wins over a declaration
        return _from_measurements(evidence, out, bool(knowledge), cost_says_ft, bool(plateaued))
    declared = [o for o in outcomes if o.approach in (*PROMPT_APPROACHES, "rag") and (o.met or o.missed)]
    if not declared and not cost_says_ft:
        return _start_simple(loaded, out, bool(knowledge), bool(behaviour))
    wants_ft = bool(plateaued) or cost_says_ft or bool(behaviour)
    if behaviour and not tried_any:
        r.append(reason(loaded, f"nothing tried yet, but a prompt cannot reliably teach {' and '.join(behaviour)}: "
                                "fine-tune, and let the eval's base_few_shot baseline show what prompting reaches",
                        "requirements", "needs"))

    if meeting and not plateaued:
        o = meeting[0]
        out.approach = "rag" if o.approach == "rag" or knowledge else "prompting"
        r.append(reason(loaded, f"{o.approach} already meets every threshold it was scored on "
                                f"({', '.join(o.met)}): fine-tuning is not needed", "requirements", "tried", o.index))
        return out
    if knowledge and wants_ft:
        out.approach = "fine_tuning_and_rag"
        r.append(Reason(text="knowledge together with learned behaviour: fine-tune for the behaviour and "
                             "retrieve the knowledge"))
    elif knowledge:
        out.approach = "rag"
    elif wants_ft:
        out.approach = "fine_tuning"
    else:
        out.approach = "prompting"
        if not tried_any:
            r.append(reason(loaded, "nothing tried yet: start with the simplest approach, prompting; fine-tune "
                                    "only once it plateaus below the thresholds", "requirements"))
    return out


def baseline_evidence(loaded: LoadedSpec):
    """The newest matching `ftspec baseline` measurements (ftspec.baseline.evidence), read once per loaded spec."""
    from ftspec.baseline.evidence import cached_evidence

    return cached_evidence(loaded)


def _start_simple(loaded: LoadedSpec, out: ApproachResult, knowledge: bool, behaviour: bool) -> ApproachResult:
    """Nothing tried, nothing measured: the simplest approach first; the fine-tune the needs point to waits."""
    out.approach = "rag" if knowledge else "prompting"
    if behaviour:
        out.provisional = "fine_tuning_and_rag" if knowledge else "fine_tuning"
    out.reasons.append(reason(loaded, "start with the simplest approach: run `ftspec baseline` to measure what "
                                      "prompting reaches on the eval set; fine-tune only once it plateaus below the "
                                      "thresholds", "requirements"))
    return out


def _from_measurements(evidence, out: ApproachResult, knowledge: bool, cost_says_ft: bool,
                       declared_plateau: bool) -> ApproachResult:
    """The decision from measured rungs: the simplest rung that passes every gate, else the best rung's gaps."""
    from ftspec.baseline.evidence import best_rung, passing_text, plateau_text

    r = out.reasons  # the ladder itself is out.ladder: a table in decision.md, explain and check
    passing = [(m, rung) for m, rung in evidence.rungs if rung.passed]
    if passing and not cost_says_ft:
        measurement, rung = passing[0]
        out.approach = "rag" if rung.name == "rag" or knowledge else "prompting"
        r.append(Reason(text=passing_text(measurement, rung)))
        if declared_plateau:
            r.append(Reason(text="the measurement wins over the declared `tried` scores"))
        return out
    if not passing:
        r.append(Reason(text=plateau_text(*best_rung(evidence))))
    out.approach = "fine_tuning_and_rag" if knowledge else "fine_tuning"
    return out


def measured_ladder(evidence) -> list[LadderRow]:
    """Every rung of every matching measurement, each gate with its value and CI."""
    return [LadderRow(rung=rung.name, label=rung.label, source="measured", model=m.model, baseline=m.id,
                      passed=rung.passed,
                      gates=[LadderGate(metric=g["label"], slice=g["slice"], value=g["value"], ci=g.get("value_ci"),
                                        threshold=g["threshold"], passed=g["passed"]) for g in rung.gates])
            for m, rung in evidence.rungs]


def declared_ladder(loaded: LoadedSpec) -> list[LadderRow]:
    """The `tried` scores that meet or miss a threshold on the whole eval set, as rows of the ladder (no CI)."""
    bars = {m.name: m.threshold for m in loaded.spec.metrics if m.vs_baseline is None and m.slice == "all"}
    rows = []
    for tried in loaded.spec.requirements.tried:
        gates = [LadderGate(metric=metric, value=score, threshold=str(bars[metric]), passed=bars[metric].passes(score))
                 for metric, score in tried.scores.items() if metric in bars]
        if gates:
            rows.append(LadderRow(rung=tried.approach, label=tried.approach.replace("_", " "), source="declared",
                                  passed=all(g.passed for g in gates), gates=gates))
    return rows


def _cost_reason(loaded: LoadedSpec, cost: CostComparison | None, r: list[Reason]) -> bool:
    needs = loaded.spec.requirements.needs
    if "reduce_prompt_cost" not in needs:
        return False
    if cost is None:
        r.append(reason(loaded, "reduce_prompt_cost needs the token-cost arithmetic: declare requirements.traffic "
                                "(requests_per_day, prompt_tokens, completion_tokens)",
                        "requirements", "needs", needs.index("reduce_prompt_cost")))
        return False
    where = ("requirements", "traffic")
    if cost.favours_fine_tuning:
        r.append(reason(loaded, f"fine-tuning cuts the prompt to {cost.finetuned_prompt_tokens:g} tokens and saves "
                                f"${cost.monthly_savings_usd:,.2f} a month; training (${cost.training_usd:,.2f}) "
                                f"pays for itself in {payback_label(cost.break_even_months)}", *where))
        return True
    why = ("saves nothing a month" if cost.break_even_months is None
           else f"takes {payback_label(cost.break_even_months)} to pay back (> {BREAK_EVEN_MONTHS} months)")
    r.append(reason(loaded, f"reduce_prompt_cost: fine-tuning {why}; keep the prompt", *where))
    return False


def check_prerequisites(loaded: LoadedSpec, audit: AuditReport | None) -> list[Prerequisite]:
    spec = loaded.spec
    req, data = spec.requirements, spec.data
    cases = len(req.use_cases)
    out = [
        Prerequisite(name="objective", met=bool(req.objective and req.objective.strip()),
                     hint="write requirements.objective: one sentence on what the model must do"),
        Prerequisite(name="use_cases", met=1 <= cases <= 2, blocking=cases == 0,
                     hint="list one or two concrete use cases under requirements.use_cases" if cases == 0 else
                     f"{cases} use cases: focus the project on one or two and split the rest into their own specs"),
        Prerequisite(name="metrics", met=bool(spec.metrics),
                     hint="add metrics with thresholds, e.g. `- {name: exact_match, threshold: \">= 0.9\"}`"),
        Prerequisite(name="eval_set", met=data.eval is not None or data.holdout is not None,
                     hint="set data.eval to a held-out file, or data.holdout: 0.1 to split train"),
        _clean_data(loaded, audit),
        _baseline_prerequisite(loaded),
    ]
    for p in out:
        if p.met and p.name != "clean_data":
            p.hint = None
    return out


def _clean_data(loaded: LoadedSpec, audit: AuditReport | None) -> Prerequisite:
    minimum = loaded.spec.data.quality.min_examples
    rows = audit.clean_rows("train") if audit is not None else None
    if audit is not None and audit.errors:
        return Prerequisite(name="clean_data", met=False,
                            hint=f"{len(audit.errors)} blocking data problem(s): `ftspec data audit SPEC` lists the "
                                 "rows; `ftspec data clean` writes a cleaned copy")
    if rows is None:
        return Prerequisite(name="clean_data", met=False, blocking=False,
                            hint="unknown: the audit did not count clean rows; run `ftspec data audit SPEC`")
    if rows < minimum:
        return Prerequisite(name="clean_data", met=False,
                            hint=f"{rows} clean training rows, fewer than data.quality.min_examples ({minimum}): "
                                 "collect more examples")
    return Prerequisite(name="clean_data", met=True, hint=f"{rows} clean training rows (>= {minimum})")


def budget_prerequisite(loaded: LoadedSpec, model_params: float, train_tokens: float,
                        epochs: float) -> list[Prerequisite]:
    """requirements.constraints.budget_usd against the training cost estimate: over it, a blocking prerequisite
    with the figures (a budget is a limit, not a comment)."""
    constraints = loaded.spec.requirements.constraints
    if constraints.budget_usd is None:
        return []
    estimate = estimate_training(model_params, train_tokens, epochs, constraints.gpu_hour_usd)
    budget = f"${constraints.budget_usd:,.2f}"
    if estimate.usd <= constraints.budget_usd:
        return [Prerequisite(name="budget", met=True, hint=f"training is estimated at {estimate.describe()}, within "
                                                          f"the budget of {budget}")]
    return [Prerequisite(name="budget", met=False,
                         hint=f"training is estimated at {estimate.describe()}, over the budget of {budget}: raise "
                              "requirements.constraints.budget_usd, or train less (fewer epochs, rows or tokens, a "
                              "smaller model)")]


def _baseline_prerequisite(loaded: LoadedSpec) -> Prerequisite:
    """Met by a matching `ftspec baseline` measurement or by declared scores of a prompting approach or RAG."""
    evidence = baseline_evidence(loaded)
    declared = any(t.scores for t in loaded.spec.requirements.tried if t.approach != "fine_tuning")
    hint = evidence.stale[0] if evidence.stale else ("run `ftspec baseline SPEC` to measure what prompting reaches "
                                                     "on the eval set, or record scores under requirements.tried")
    return Prerequisite(name="baseline", met=bool(evidence.measurements) or declared, hint=hint)


# -- monitor evidence (issue 18; appended by the monitor branch) ---------------------------------------------------
def monitoring_reasons(loaded: LoadedSpec) -> list[Reason]:
    """Why re-fine-tuning is (or is not) due, from the latest `ftspec monitor` report beside the spec; none when the
    project was never monitored. For the decision to cite as evidence (explain)."""
    from ftspec.monitor.findings import monitor_findings

    found = monitor_findings(loaded.path)
    if found is None:
        return []
    if not found.retrain_due:
        return [Reason(text=f"production monitoring: {found.verdict} ({found.report})")]
    head = Reason(text=f"production monitoring advises re-fine-tuning (cadence: {found.cadence}; {found.report})")
    return [head, *(Reason(text=r.text, spec_path=r.spec_path, location=r.location) for r in found.reasons)]
