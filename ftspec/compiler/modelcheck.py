"""The spec against the real base model, at `check`: what would otherwise crash `run` (see ftspec.compiler.modelinfo).

Errors here are located spec problems (exit 2); the warnings and notes go into the decision's reasons (decide.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftspec.compiler.modelinfo import ModelFiles, cached_snapshot, read_model
from ftspec.errors import Problem
from ftspec.spec.source import dotted

if TYPE_CHECKING:
    from ftspec.spec.load import LoadedSpec
    from ftspec.spec.models import ModelSpec


def locate_model(loaded: LoadedSpec, model: ModelSpec) -> ModelFiles | None:
    """The model's files: a local folder, or a hub model's snapshot in the Hugging Face cache (never downloaded)."""
    if model.path is not None:
        folder = loaded.resolve(model.path)
        return read_model(folder) if folder.is_dir() else None
    snapshot = cached_snapshot(model.hub) if model.hub else None
    return read_model(snapshot, "Hugging Face cache") if snapshot is not None else None


def model_problems(loaded: LoadedSpec) -> list[Problem]:
    problems: list[Problem] = []

    def add(path: tuple, message: str, hint: str | None = None) -> None:
        problems.append(Problem(loaded.source.locate(path), dotted(path), message, hint))

    spec = loaded.spec
    targets = spec.training.lora.target_modules
    preference = spec.method == "dpo" or spec.data.format == "preference"
    for i, model in enumerate(spec.models):
        if (model.path is None) == (model.hub is None):
            continue  # reported by the spec's own checks
        files = locate_model(loaded, model)
        arch = files.architecture if files else None
        if arch is None:
            continue
        if isinstance(targets, list) and spec.method != "full":  # full fine-tuning adapts no module
            names = arch.module_names
            for j, target in enumerate(targets):
                if target not in names:
                    add(("training", "lora", "target_modules", j),
                        f"model `{model.name}` ({arch.model_type or arch.family}) has no `{target}` layer",
                        f"its linear layers: {', '.join(names)}; or use `all-linear`")
        # a max_seq_length past the context (GPT-2's learned positions included) is spec/semantic.py's check
        if preference and arch.encoder_decoder:
            add(("models", i), f"model `{model.name}` is an encoder-decoder ({arch.model_type}): preference methods "
                               "(DPO) here train decoder-only models",
                "pick a decoder-only model for preference data, or train the chosen answers as prompt_completion "
                "data")
    return problems
