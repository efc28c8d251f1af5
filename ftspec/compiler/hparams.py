"""Hyperparameter defaults by method and data size. A value set in the spec always wins, and says where it was set."""

from __future__ import annotations

from ftspec.compiler.methods import Method
from ftspec.compiler.plan import Hyperparameters, Lora
from ftspec.spec.load import LoadedSpec

DEFAULT_SEQ_LENGTH = 1024


class Chooser:
    """Records each value with its reason: the spec's own line, or why the default was picked."""

    def __init__(self, loaded: LoadedSpec):
        self.loaded = loaded
        self.reasons: dict[str, str] = {}

    def pick(self, field: str, spec_path: tuple, spec_value: object, default: object, why: str) -> object:
        if spec_value is not None and spec_value != "auto" and spec_path in self.loaded.source.values:
            self.reasons[field] = f"set in the spec ({self.loaded.locate(*spec_path)})"
            return spec_value
        self.reasons[field] = why
        return default


def default_seq_length(context_window: int | None) -> tuple[int, str]:
    """The one default for max_seq_length (the decision, the memory estimate, the cost and the plan use it)."""
    if context_window is not None and context_window < DEFAULT_SEQ_LENGTH:
        return context_window, f"{context_window} tokens: the model's context window caps it"
    return DEFAULT_SEQ_LENGTH, (f"{DEFAULT_SEQ_LENGTH} tokens: enough for most instruction rows; the audit flags "
                                "longer ones")


def planned_seq_length(spec_value: int | None, context_window: int | None) -> int:
    """The spec's max_seq_length, else the default."""
    return spec_value or default_seq_length(context_window)[0]


def default_epochs(rows: int | None) -> tuple[float, str]:
    if rows is None:
        return 3, "3 epochs: the audit did not count the rows, so assume a small set"
    if rows < 1000:
        return 3, f"{rows} training rows (<1k): 3 epochs; more would overfit a set this small"
    if rows < 10000:
        return 2, f"{rows} training rows (1k-10k): 2 epochs"
    return 1, f"{rows} training rows (>=10k): one pass is enough"


def choose_hyperparameters(loaded: LoadedSpec, method: Method, rows: int | None,
                           context_window: int | None, gradient_checkpointing: bool,
                           batch_size: int) -> Hyperparameters:
    spec = loaded.spec.training
    choose = Chooser(loaded)
    t = ("training",)
    lr, lr_why = method.learning_rate()
    epochs, epochs_why = default_epochs(rows)
    effective = 8 if rows is not None and rows < 500 else 16
    seq_default, seq_why = default_seq_length(context_window)
    peft, quantised = method.adapter.peft, method.adapter.quantized
    batch = choose.pick("batch_size", (*t, "batch_size"), spec.batch_size, batch_size,
                        f"{batch_size} per device: the memory estimate's setting for this model")
    values = dict(
        learning_rate=choose.pick("learning_rate", (*t, "learning_rate"), spec.learning_rate, lr, lr_why),
        epochs=choose.pick("epochs", (*t, "epochs"), spec.epochs, epochs, epochs_why),
        batch_size=batch,
        gradient_accumulation=choose.pick(
            "gradient_accumulation", (*t, "gradient_accumulation"), spec.gradient_accumulation,
            max(1, effective // batch), f"an effective batch of {effective} "
            + ("(small data: more updates per epoch)" if effective == 8 else "(stable steps)")),
        weight_decay=choose.pick("weight_decay", (*t, "weight_decay"), spec.weight_decay,
                                 0.0 if peft else 0.01, "adapters need no decay" if peft else
                                 "light decay for full fine-tuning"),
        scheduler=choose.pick("scheduler", (*t, "scheduler"), spec.scheduler, "cosine",
                              "cosine decay after warm-up: the common default for SFT and DPO"),
        warmup_ratio=choose.pick("warmup_ratio", (*t, "warmup_ratio"), spec.warmup_ratio,
                                 method.objective.warmup_ratio, "short warm-up to stabilise the first steps"),
        max_seq_length=choose.pick("max_seq_length", (*t, "max_seq_length"), spec.max_seq_length, seq_default,
                                   seq_why),
        seed=choose.pick("seed", (*t, "seed"), spec.seed, spec.seed, "default seed, for repeatable runs"),
        gradient_checkpointing=choose.pick(
            "gradient_checkpointing", (*t, "gradient_checkpointing"), spec.gradient_checkpointing,
            gradient_checkpointing, "recompute activations to save memory (the memory estimate needs it, or the "
            "model has 1B+ parameters)" if gradient_checkpointing else "activations fit: keep the speed"),
        optimizer=choose.pick("optimizer", (*t, "optimizer"), spec.optimizer,
                              "paged_adamw_8bit" if quantised else "adamw_torch",
                              "paged 8-bit AdamW, as QLoRA uses, to absorb memory spikes" if quantised
                              else "AdamW with 32-bit states"),
        precision=choose.pick("precision", (*t, "precision"), spec.precision, "auto",
                              "bf16 where the GPU supports it, else fp32"),
        eval_steps=choose.pick("eval_steps", (*t, "eval_steps"), spec.eval_steps, None,
                               "evaluate once per epoch"),
    )
    early = spec.early_stopping
    if early:
        patience = early.patience if not isinstance(early, bool) else 2
        min_delta = early.min_delta if not isinstance(early, bool) else 0.0
        values["early_stopping_patience"] = patience
        values["early_stopping_min_delta"] = min_delta
        choose.reasons["early_stopping_patience"] = f"set in the spec ({loaded.locate(*t, 'early_stopping')})"
    if peft:
        values["lora"] = _lora(choose, spec.lora)
    for setting in method.objective.settings:
        given = getattr(spec, setting.spec_key, None) if setting.spec_key else None
        values[setting.name] = choose.pick(setting.name, (*t, setting.spec_key or setting.name), given,
                                           setting.default if given is None else given, setting.why)
    return Hyperparameters(**values, reasons=choose.reasons)


def _lora(choose: Chooser, spec) -> Lora:
    t = ("training", "lora")
    r = choose.pick("lora.r", (*t, "r"), spec.r, 16, "rank 16: enough for task adaptation at little memory")
    return Lora(r=r,
                alpha=choose.pick("lora.alpha", (*t, "alpha"), spec.alpha, 2 * r, "alpha = 2 x rank"),
                dropout=choose.pick("lora.dropout", (*t, "dropout"), spec.dropout, 0.05, "light regularisation"),
                target_modules=choose.pick("lora.target_modules", (*t, "target_modules"), spec.target_modules,
                                           "all-linear", "every linear layer, as QLoRA found needed to match full "
                                                         "fine-tuning"))
