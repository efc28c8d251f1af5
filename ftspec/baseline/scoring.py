"""Score one rung's predictions exactly as `ftspec eval` scores a fine-tuned model: the same scorers, gates and
bootstrap CIs (ftspec.evals), with the rung in the fine-tuned model's place. A gate on the margin over a baseline
compares a fine-tune with the base model, so before training it is listed as not applicable."""

from __future__ import annotations

from pathlib import Path

from ftspec.spec.load import LoadedSpec


def score_rung(loaded: LoadedSpec, rung_dir: Path, model_name: str) -> dict:
    from ftspec.evals.gates import TUNED, Scorer, evaluate_gate, model_table
    from ftspec.evals.metrics import MetricContext, metric_label
    from ftspec.evals.runs import read_predictions

    spec = loaded.spec
    predictions = read_predictions(rung_dir)
    rows = [dict(row, model=TUNED) for row in predictions.rows if row.get("model") == model_name]
    scorer = Scorer(spec, rows, MetricContext(loaded.root))
    gates = []
    for metric in spec.metrics:
        if metric.vs_baseline is None:
            gate = evaluate_gate(scorer, metric).to_json()
            gate["reason"] = gate["reason"].replace(f"`{TUNED}`", f"`{model_name}`")
            gate["model"] = model_name
            gates.append(gate)
    not_applicable = [f"{metric_label(m)} vs {m.vs_baseline}" for m in spec.metrics if m.vs_baseline is not None]
    problems = list(predictions.problems)
    return {"passed": bool(gates) and all(g["passed"] for g in gates) and not problems, "gates": gates,
            "not_applicable": not_applicable, "problems": problems,
            "table": model_table(scorer).get(TUNED, {}), "rows": len(rows)}
