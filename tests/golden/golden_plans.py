"""Plans built directly (not through decide()), so the render tests do not wait on the decision engine."""

from __future__ import annotations

from ftspec.compiler.plan import (
    ChosenModel,
    DataPlan,
    Decision,
    Distributed,
    EvalPlan,
    Hyperparameters,
    Lora,
    Plan,
    Prerequisite,
    PromptFormat,
)
from ftspec.compiler.render import ScriptPaths

METHODS = ("full", "lora", "qlora", "dpo")


def make_plan(method: str = "lora", *, data_format: str | None = None, kind: str = "chat_template",
              mode: str = "single", processes: int = 1, machines: int = 1, use_cpu: bool = False,
              eval_steps: int | None = 1, patience: int | None = None, holdout: float | None = None,
              perplexity: bool = True, template: str | None = None, system_prompt: str | None = None,
              tracking: str = "none", project: str = "order-to-json") -> Plan:
    data_format = data_format or ("preference" if method == "dpo" else "prompt_completion")
    adapter = "lora" if method == "dpo" else None
    lora = Lora(r=8, alpha=16, dropout=0.0, target_modules="all-linear") if method != "full" else None
    hp = Hyperparameters(learning_rate=2e-4, epochs=1, batch_size=2, gradient_accumulation=1, weight_decay=0.0,
                         scheduler="linear", warmup_ratio=0.0, max_seq_length=256, seed=7,
                         gradient_checkpointing=False, optimizer="adamw_torch", precision="auto",
                         eval_steps=eval_steps, early_stopping_patience=patience, lora=lora,
                         dpo_beta=0.1 if method == "dpo" else None)
    return Plan(
        project=project,
        decision=Decision(approach="fine_tuning", prerequisites=[Prerequisite(name="eval_set", met=True)]),
        method=method, adapter=adapter,
        model=ChosenModel(name="tiny-llama", path="models/tiny-llama", params=1.2e6, has_chat_template=True),
        hyperparameters=hp,
        prompt_format=PromptFormat(kind=kind, template=template, system_prompt=system_prompt),
        data=DataPlan(format=data_format, train=["data/train.jsonl"], eval=None if holdout else "data/eval.jsonl",
                      holdout=holdout, adversarial="data/adversarial.jsonl"),
        distributed=Distributed(mode=mode, num_processes=processes, num_machines=machines, use_cpu=use_cpu),
        evaluation=EvalPlan(baselines=[{"name": "base_zero_shot"}, {"name": "base_few_shot", "k": 2}],
                            max_new_tokens=8, batch_size=4, perplexity=perplexity),
        tracking=tracking,
    )


def make_paths(plan: Plan, model: str = "../models/tiny-llama") -> ScriptPaths:
    """Paths as a build folder beside the spec sees them."""
    data = plan.data

    def rel(path: str | None) -> str | None:
        return None if path is None else f"../{path}"

    return ScriptPaths(train=[f"../{p}" for p in data.train], eval=rel(data.eval),
                       adversarial=rel(data.adversarial), regression=rel(data.regression), model=model)
