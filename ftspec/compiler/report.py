"""The decision report: decision.md (also what `ftspec explain` prints) and decision.json."""

from __future__ import annotations

from ftspec.compiler.methods import method_rows
from ftspec.compiler.plan import Plan
from ftspec.data.findings import AuditReport
from ftspec.spec.load import LoadedSpec

APPROACH_TITLES = {"prompting": "Prompting", "rag": "Retrieval (RAG)", "fine_tuning": "Fine-tuning",
                   "fine_tuning_and_rag": "Fine-tuning and RAG"}


def decision_json(plan: Plan) -> dict:
    """The `decision` and `plan` sections, as `ftspec check --json` prints them."""
    return plan.to_json()


def params_label(params: float | None) -> str:
    if params is None:
        return "?"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if params >= size:
            return f"{params / size:.3g}{suffix}"
    return f"{params:g}"


def decision_markdown(plan: Plan, audit: AuditReport | None, loaded: LoadedSpec, dry_run: bool = False) -> str:
    """The decision as Markdown; with dry_run (explain), the first training row rendered as train.py renders it."""
    d = plan.decision
    lines = [f"# Decision for `{plan.project}`", "", f"**Approach: {APPROACH_TITLES[d.approach]}**", ""]
    if plan.method:
        adapter = f" with a {plan.adapter} adapter" if plan.adapter else ""
        lines.append(f"**Method: {plan.method}{adapter} on `{plan.model.name}`** "
                     f"({params_label(plan.model.params)} parameters)")
    lines += ["", f"Spec: `{loaded.path}` (sha256 {loaded.sha256[:12]})", "", "## Why", ""]
    lines += [f"- {r.text}" + (f" — `{r.location}` ({r.spec_path})" if r.location else "") for r in d.reasons]
    lines += _ladder(d)
    lines += ["", "## Prerequisites", "", "| prerequisite | met | blocking | how to meet it |", "|---|---|---|---|"]
    for p in d.prerequisites:
        lines.append(f"| {p.name} | {'yes' if p.met else 'NO'} | {'yes' if p.blocking else 'no'} | {p.hint or ''} |")
    if d.blocked:
        lines += ["", f"`ftspec build` refuses while {', '.join(p.name for p in d.blocked)} "
                      f"{'is' if len(d.blocked) == 1 else 'are'} unmet; `--force` overrides."]
    if d.forced:
        lines += ["", "**Built with `--force` although a blocking prerequisite was unmet.**"]
    lines += _memory(plan) + _methods(plan) + _settings(plan) + (_dry_run(plan, loaded) if dry_run else []) + \
        _cost(plan) + _audit(audit)
    return "\n".join(lines) + "\n"


def ladder_columns(decision) -> list[tuple[str, str, str]]:
    """One column per gated metric, (metric, slice, threshold), in the order the rungs name them."""
    return list(dict.fromkeys((g.metric, g.slice, g.threshold) for row in decision.ladder for g in row.gates))


def ladder_header(column: tuple[str, str, str]) -> str:
    metric, where, threshold = column
    return metric + ("" if where == "all" else f" on {where}") + f" {threshold}"


def ladder_cell(row, column: tuple[str, str, str]) -> str:
    """value [CI low, CI high] and pass/miss; a declared score has no CI; empty where the rung lacks the metric."""
    gate = next((g for g in row.gates if (g.metric, g.slice, g.threshold) == column), None)
    if gate is None:
        return ""
    interval = f" [{_number(gate.ci[0])}, {_number(gate.ci[1])}]" if gate.ci else ""
    return f"{_number(gate.value)}{interval} {'pass' if gate.passed else 'miss'}"


def ladder_source(row) -> str:
    return f"measured ({row.model}, baselines/{row.baseline})" if row.source == "measured" else "declared"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value + 0.0:.4g}"


def _ladder(decision) -> list[str]:
    """The ladder side by side: one row per rung, one column per gated metric."""
    if not decision.ladder:
        return []
    columns = ladder_columns(decision)
    lines = ["", "## Ladder", "", "| rung | source | " + " | ".join(ladder_header(c) for c in columns) + " | verdict |",
             "|---|---|" + "---|" * len(columns) + "---|"]
    for row in decision.ladder:
        cells = [row.label, ladder_source(row), *(ladder_cell(row, c) for c in columns),
                 "pass" if row.passed else "miss"]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return lines


def _dry_run(plan: Plan, loaded: LoadedSpec) -> list[str]:
    from ftspec.compiler.dryrun import dry_run_lines  # jinja2 and tokenizers: explain and build only, not check

    return dry_run_lines(loaded, plan)


def _memory(plan: Plan) -> list[str]:
    if not plan.candidates:
        return []
    lines = ["", "## Memory per candidate (GB per GPU; formula in docs/memory.md)", "",
             "| model | method | estimate | fits | sharding | weights | gradients | optimizer | activations |",
             "|---|---|---|---|---|---|---|---|---|"]
    for c in plan.candidates:
        b = c.breakdown
        method = f"{c.method} ({c.adapter})" if c.adapter else c.method
        lines.append(f"| {c.name} | {method} | {c.estimated_memory_gb:g} | {'yes' if c.fits else 'no'} | "
                     f"{c.sharding} | {b.get('weights', 0):g} | {b.get('gradients', 0):g} | "
                     f"{b.get('optimizer', 0):g} | {b.get('activations', 0):g} |")
    lines += ["", f"Distributed: {plan.distributed.mode} ({plan.distributed.num_processes} process(es) on "
                  f"{plan.distributed.num_machines} machine(s))."]
    return lines


def _methods(plan: Plan) -> list[str]:
    """Every objective in the methods table (compiler/methods.py), the chosen one marked."""
    if not plan.candidates:
        return []
    lines = ["", "## Methods", "",
             "An objective trains all weights (full) or an adapter (lora, qlora); `method:` names an adapter or an "
             "objective, `auto` lets the decision choose.", "",
             "| objective | TRL trainer | data formats | adapters | memory beside the policy | spec |",
             "|---|---|---|---|---|---|"]
    for row in method_rows(plan.training_method):
        name = f"**{row.objective}** (chosen)" if row.chosen else row.objective
        lines.append(f"| {name} | {row.trainer} | {row.formats} | {row.adapters} | {row.memory} | "
                     f"`{row.spec_key}` |")
    return lines


def _settings(plan: Plan) -> list[str]:
    h = plan.hyperparameters
    if h is None:
        return []
    lines = ["", "## Training settings", "", "| setting | value | why |", "|---|---|---|"]
    values = h.model_dump(exclude={"reasons", "lora"})
    if h.lora:
        values.update({f"lora.{k}": v for k, v in h.lora.model_dump().items()})
    for name, why in h.reasons.items():
        lines.append(f"| {name} | {values.get(name)} | {why} |")
    fmt = plan.prompt_format
    shown = "the model's chat template" if fmt.kind == "chat_template" else f"`{fmt.template!r}`"
    lines += ["", f"Prompt format: {shown}."]
    return lines


def _cost(plan: Plan) -> list[str]:
    c = plan.cost
    if not c:
        return []
    even = f"{c['break_even_months']:g} months" if c["break_even_months"] is not None else "never"
    lines = ["", "## Token cost", "", "| | USD |", "|---|---|",
             f"| few-shot prompt, per month | {c['monthly_prompting_usd']:,.2f} |",
             f"| fine-tuned short prompt, per month | {c['monthly_finetuned_usd']:,.2f} |",
             f"| training, once ({c['gpu_hours']:g} GPU h at {c['gpu_hour_usd']:g}/h) | {c['training_usd']:,.2f} |",
             "", f"Break-even: {even}."]
    lines += [f"- assumed: {a}" for a in c["assumptions"]]
    return lines


def _audit(audit: AuditReport | None) -> list[str]:
    if audit is None:
        return []
    clean = audit.stats.get("clean_rows", {})
    lines = ["", "## Data", ""]
    lines += [f"- {split}: {rows} clean rows" for split, rows in clean.items()] or ["- the audit counted no rows"]
    lines += [f"- {len(audit.errors)} blocking finding(s), {len(audit.warnings)} warning(s)"]
    return lines
