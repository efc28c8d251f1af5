"""Render a Plan into the build's files: a pure function of (Plan, paths relative to the build folder, templates).

Every spec value enters generated code through the `literal` filter (a Python or JSON literal), never spliced raw,
so no spec string can add a statement to a script. The filter refuses Undefined: StrictUndefined alone does not stop
`repr(undefined)` from rendering as a valid-looking name.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import jinja2

from ftspec.compiler import methods
from ftspec.compiler.plan import DEFAULT_TEMPLATES, Plan

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
# output file -> template; the order is the order the summary lists them in
SCRIPT_TEMPLATES = {"train.py": "train.py.j2", "eval.py": "eval.py.j2", "accelerate.yaml": "accelerate.yaml.j2",
                    "README.md": "README.md.j2"}
DISTRIBUTED_TYPES = {"single": "NO", "ddp": "MULTI_GPU", "fsdp": "FSDP", "deepspeed": "DEEPSPEED"}


@dataclass(frozen=True)
class ScriptPaths:
    """Where the scripts find their inputs, relative to the build folder (the scripts resolve them from there)."""

    train: list[str]
    eval: str | None = None
    adversarial: str | None = None
    regression: str | None = None
    model: str | None = None  # a local base model, relative to the build folder; None: load plan.model.hub
    reward_model: str | None = None  # grpo: the trained reward model's folder (training.reward_model), likewise


class LiteralError(jinja2.TemplateRuntimeError):
    pass


def python_literal(value: object) -> str:
    """A Python literal that evaluates to `value`; refuses Undefined and anything that is not plain data."""
    if isinstance(value, jinja2.Undefined):
        raise LiteralError("a template used an undefined value as a literal")
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LiteralError(f"cannot write {value!r} into a script")
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(python_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items()) + "}"
    raise LiteralError(f"cannot write a {type(value).__name__} into a script as a literal")


def json_literal(value: object) -> str:
    """A JSON literal (also a YAML flow scalar): for accelerate.yaml and JSON files."""
    if isinstance(value, jinja2.Undefined):
        raise LiteralError("a template used an undefined value as a literal")
    python_literal(value)  # the same refusals: plain data only
    return json.dumps(value, ensure_ascii=True)


def make_environment(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    # ftspec's templates first, then the folders of objectives registered from elsewhere (their partials)
    loader = jinja2.FileSystemLoader([str(templates_dir), *map(str, methods.template_dirs())])
    env = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined,
                             autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["literal"] = python_literal
    env.filters["json"] = json_literal
    return env


def prompt_format(plan: Plan) -> dict:
    """The one prompt format both scripts read (prompt_format.json)."""
    fmt = plan.prompt_format
    data_format = plan.data.format
    body: dict = {"kind": fmt.kind, "data_format": data_format, "system_prompt": fmt.system_prompt}
    if fmt.kind == "chat_template":
        body["template"] = None
        body["template_without_input"] = None
    else:
        body["template"] = fmt.template or DEFAULT_TEMPLATES[data_format]
        # the default instruction template drops its Input block when a row has no input
        is_default = data_format == "instruction" and body["template"] == DEFAULT_TEMPLATES["instruction"]
        body["template_without_input"] = DEFAULT_TEMPLATES["instruction_without_input"] if is_default else None
    # a chat template opens with its own special tokens; a plain template relies on the tokenizer's (BOS)
    body["add_special_tokens"] = fmt.kind != "chat_template"
    body["fields"] = dict(plan.data.fields)
    return body


def template_files(templates_dir: Path = TEMPLATES_DIR) -> dict[str, str]:
    """Every template's sha256, by its path under the templates folder (for the manifest): the objectives' partials
    (objectives/<name>.py.j2) count too."""
    return {path.relative_to(templates_dir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(templates_dir.rglob("*.j2"))}


def render_build(plan: Plan, paths: ScriptPaths, templates_dir: Path = TEMPLATES_DIR,
                 version: str = "0") -> dict[str, str]:
    """file name -> text for every generated file except the decision report and the manifest."""
    env = make_environment(templates_dir)
    method = plan.training_method
    baselines = [str(b["name"]) for b in plan.evaluation.baselines]
    few_shot = [b for b in plan.evaluation.baselines if b["name"] == "base_few_shot"]
    dist = plan.distributed
    precision = plan.hyperparameters.precision if plan.hyperparameters else "auto"
    context = {"plan": plan, "paths": asdict(paths), "version": version, "hp": plan.hyperparameters,
               "fmt": prompt_format(plan), "objective": method.objective, "adapter": method.adapter,
               "uses_adapter": method.adapter.peft, "quantized": method.adapter.quantized,
               "baseline_names": baselines, "model_names": ["finetuned", *baselines],
               "few_shot_k": int(few_shot[0].get("k", 3)) if few_shot else 0, "dist": dist,
               "distributed_type": DISTRIBUTED_TYPES[dist.mode],
               "mixed_precision": precision if precision in ("bf16", "fp16") and not dist.use_cpu else "no"}
    templates = {**SCRIPT_TEMPLATES, "eval.py": method.objective.eval_template}  # the objective's own eval
    files = {name: env.get_template(template).render({**context, "machine_rank": 0})
             for name, template in templates.items()}
    from ftspec.compiler.distributed import launch_files

    files.update(launch_files(env, context))  # per-node configs and launch scripts past one process
    files["prompt_format.json"] = json.dumps(context["fmt"], indent=2, ensure_ascii=False) + "\n"
    return files

