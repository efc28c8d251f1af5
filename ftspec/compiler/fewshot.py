"""Will the base_few_shot baseline's prompts fit the model? The longest prompt eval.py will build, measured with the
model's own tokenizer before any GPU time is spent: past the context window the baseline is scored on prompts the
model cannot read (eval.log: "756 > 512"), and the margin over it means nothing.

The prompt is rebuilt the way the generated scripts build it (templates/_common.py.j2: fill_template, build_prompt;
eval.py.j2: pick_shots): the same k training rows, drawn with `random.Random(seed).sample` over the training rows
after the holdout (sample's picks depend only on the count, so the count from the audit finds the same rows), then
each eval-side row of the first `max_examples` of every slice. Under a chat template the turns' text is measured
without the template's own tokens, so the figure is a lower bound there.
"""

from __future__ import annotations

import random
import re
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from ftspec.compiler.plan import Plan
from ftspec.data.findings import AuditReport
from ftspec.errors import Problem
from ftspec.spec.load import LoadedSpec
from ftspec.spec.source import dotted

PLACEHOLDER = re.compile(r"\{(instruction|input|prompt|conversation)\}")
CANDIDATES = 8  # the eval rows longest on their own, measured whole with the shots
RENDER_SECONDS = 2.0  # a chat template that takes longer is not rendered: the lower bound stands


@dataclass
class PromptBuilder:
    """The generated scripts' prompt text for a row (their fill_template, target_text, build_prompt)."""

    data_format: str
    fields: dict
    fmt: dict
    chat: object = None  # the model's chat template as a function of the messages, where it renders here

    def field(self, row: dict, name: str, default=None):
        value = row.get(self.fields.get(name, name), default)
        return default if value is None else value

    def target(self, row: dict) -> str:
        if self.data_format == "chat":
            return str(self.field(row, "messages")[-1]["content"])
        key = {"instruction": "output", "preference": "chosen"}.get(self.data_format, "completion")
        return str(self.field(row, key, ""))

    def turns(self, row: dict) -> list[tuple[str, str]]:
        if self.data_format == "chat":
            return [(str(m["role"]), str(m["content"])) for m in self.field(row, "messages")[:-1]]
        if self.data_format == "instruction":
            instruction, extra = str(self.field(row, "instruction", "")), str(self.field(row, "input", ""))
            return [("user", f"{instruction}\n\n{extra}" if extra else instruction)]
        return [("user", str(self.field(row, "prompt", "")))]

    def fill(self, row: dict) -> str:
        if self.fmt["kind"] == "chat_template":  # the turns' text; the template adds its own tokens on top
            return "\n".join(content for _, content in self.turns(row))
        conversation = "\n".join(f"{role}: {content}" for role, content in self.turns(row))
        values = dict(instruction=str(self.field(row, "instruction", "")), input=str(self.field(row, "input", "")),
                      prompt=self.turns(row)[0][1] if self.data_format != "chat" else conversation,
                      conversation=conversation)
        template = self.fmt["template"]
        if self.fmt.get("template_without_input") and not values["input"]:
            template = self.fmt["template_without_input"]
        return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)

    def prefix(self, shots: list[dict]) -> str:
        system = f"{self.fmt['system_prompt']}\n\n" if self.fmt.get("system_prompt") else ""
        return system + "".join(self.fill(shot) + self.target(shot) + "\n\n" for shot in shots)

    def prompt(self, row: dict, shots: list[dict]) -> str:
        """build_prompt: under a chat template, the shots as earlier turns of the conversation."""
        if self.fmt["kind"] != "chat_template" or self.chat is None:
            return self.prefix(shots) + self.fill(row)
        system = [dict(role="system", content=self.fmt["system_prompt"])] if self.fmt.get("system_prompt") else []
        messages = [dict(role=role, content=content) for role, content in self.turns(row)]
        start = 1 if messages and messages[0]["role"] == "system" else 0
        if start:
            system = []
        examples = []
        for shot in shots:
            examples += [dict(role=r, content=c) for r, c in self.turns(shot) if r != "system"]
            examples.append(dict(role="assistant", content=self.target(shot)))
        messages = system + messages[:start] + examples + messages[start:]
        return self.chat(messages)


def few_shot_overflow(loaded: LoadedSpec, audit: AuditReport, plan: Plan) -> Problem | None:
    """A located warning when the longest base_few_shot prompt is longer than the model's context window."""
    spec = loaded.spec
    baselines = spec.evaluation.baselines
    index = next((i for i, b in enumerate(baselines) if b.name == "base_few_shot"), None)
    if index is None or plan.model is None or plan.model.path is None or audit.errors:
        return None
    model = next(m for m in spec.models if m.name == plan.model.name)
    from ftspec.data.lengths import _load
    from ftspec.spec.semantic import model_context_window

    context = model_context_window(loaded, model)
    folder = loaded.resolve(model.path)
    train_rows = audit.stats.get("rows", {}).get("train")
    if context is None or not (folder / "tokenizer.json").is_file() or not train_rows:
        return None
    seed = plan.hyperparameters.seed if plan.hyperparameters else spec.training.seed
    picks = random.Random(seed).sample(range(train_rows), min(baselines[index].k, train_rows))
    shots, eval_rows = _rows(loaded, picks)
    if len(shots) < len(picks) or not eval_rows:
        return None
    try:
        tokenizer = _load(folder / "tokenizer.json")
        longest = _longest(PromptBuilder(spec.data.format, dict(spec.data.fields), _prompt_format(plan)),
                           [shots[i] for i in picks], eval_rows, tokenizer, folder, context)
    except Exception:  # noqa: BLE001 - rows the audit already flags, or a tokenizer it already reported
        return None
    if longest is None or longest <= context:
        return None
    where = ("evaluation", "baselines", index)
    return Problem(loaded.locate(*where), dotted(where),
                   f"base_few_shot prompts reach {longest:,} tokens ({len(picks)} training examples and the eval "
                   f"prompt), past `{model.name}`'s context window of {context:,} tokens",
                   "lower the baseline's `k`, or drop base_few_shot: past the window the model cannot read the "
                   "prompt, so the baseline and any margin over it mean nothing")


def _longest(builder: PromptBuilder, shots: list[dict], eval_rows: list[dict], tokenizer, folder,
             context: int) -> int | None:
    """The longest prompt in tokens (None: it surely fits). Eval rows are ranked by their own length and only the
    longest few are measured whole: the shots are the same in every prompt. Under a chat template the turns' text
    alone is a lower bound and the template's literal text an upper bound on what it adds; only when those two
    disagree is the template rendered (jinja2 is ~30 ms of a `check`)."""
    own = [len(e) for e in tokenizer.encode_batch_fast([builder.fill(row) for row in eval_rows])]
    ranked = [eval_rows[i] for i in sorted(range(len(own)), key=own.__getitem__)[-CANDIDATES:]]
    chat = builder.fmt["kind"] == "chat_template"
    if not chat:
        return max(len(e) for e in tokenizer.encode_batch_fast([builder.prompt(r, shots) for r in ranked]))
    source = _chat_source(folder)
    lower = max(len(e) for e in tokenizer.encode_batch_fast([builder.prompt(r, shots) for r in ranked],
                                                            add_special_tokens=False))
    if source is None or lower > context:
        return lower
    turns = 2 * len(shots) + 1 + bool(builder.fmt.get("system_prompt"))  # shots, the eval turn, a system turn
    if lower + _added_bound(source[0], tokenizer) * (turns + 1) <= context:  # + 1: the generation prompt
        return None
    builder.chat = _compile(*source)
    try:
        with _time_limit(RENDER_SECONDS):  # a model folder's template is input too: its cost is bounded
            prompts = [builder.prompt(r, shots) for r in ranked]
    except TimeoutError:
        return lower
    return max(len(e) for e in tokenizer.encode_batch_fast(prompts, add_special_tokens=False))


@contextmanager
def _time_limit(seconds: float):
    """TimeoutError after `seconds` of wall time, where a timer signal can say so (the main thread, POSIX)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _rows(loaded: LoadedSpec, picks: list[int]) -> tuple[dict[int, dict], list[dict]]:
    """The picked training rows by position, and the eval-side rows the eval scores (first max_examples a slice)."""
    from ftspec.data.split import is_holdout

    data, cap = loaded.spec.data, loaded.spec.evaluation.max_examples
    wanted, shots, held = set(picks), {}, []
    position = index = 0
    for name in data.train:
        for record in _records(loaded, name):
            if data.holdout and is_holdout(index, loaded.spec.training.seed, data.holdout):
                if cap is None or len(held) < cap:
                    held.append(record)
            else:
                if position in wanted:
                    shots[position] = record
                position += 1
            index += 1
            if len(shots) == len(wanted) and (not data.holdout or (cap is not None and len(held) >= cap)):
                break
        else:
            continue
        break
    eval_rows = held
    for name in (data.eval, data.adversarial, data.regression):
        if name is not None:
            eval_rows += _first(_records(loaded, name), cap)
    return shots, [row for row in eval_rows if isinstance(row, dict)]


def _records(loaded: LoadedSpec, name: str):
    from ftspec.data.readers import read_batches

    for batch in read_batches(loaded.resolve(name), None, name):
        if batch.has_rows():
            yield from (row.record for row in batch.rows() if row.error is None)
        else:
            yield from batch.records


def _first(records, cap: int | None) -> list:
    out = []
    for record in records:
        if cap is not None and len(out) >= cap:
            break
        out.append(record)
    return out


def _prompt_format(plan: Plan) -> dict:
    """prompt_format.json as ftspec.compiler.render writes it, without importing jinja2 into `check`: the default
    instruction template drops its Input block for a row without input."""
    from ftspec.compiler.plan import DEFAULT_TEMPLATES

    fmt = plan.prompt_format
    template = fmt.template if fmt.kind == "template" else None
    default = plan.data.format == "instruction" and template == DEFAULT_TEMPLATES["instruction"]
    return {"kind": fmt.kind, "system_prompt": fmt.system_prompt, "template": template,
            "template_without_input": template.replace("### Input:\n{input}\n\n", "") if default else None}


def _chat_source(folder) -> tuple[str, dict] | None:
    """The model's chat template and its special tokens' text, or None where there is none."""
    import json

    try:
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        file = folder / "chat_template.jinja"
        source = file.read_text(encoding="utf-8") if file.is_file() else config.get("chat_template")
    except (OSError, ValueError, AttributeError):
        return None
    if isinstance(source, list):  # named templates: transformers uses "default"
        source = next((t.get("template") for t in source if isinstance(t, dict) and t.get("name") == "default"), None)
    if not isinstance(source, str):
        return None
    return source, {name: _token_text(config.get(name)) for name in ("bos_token", "eos_token", "unk_token",
                                                                      "pad_token")}


def _added_bound(source: str, tokenizer) -> int:
    """What one turn can add beyond its text, at most: every literal of the template (the text between its tags and
    the quoted strings inside them), a token for each variable it prints (a role, a special token), and slack."""
    tags = re.findall(r"{[{%].*?[}%]}", source, flags=re.S)
    literal = re.sub(r"{[{%#].*?[}%#]}", "", source, flags=re.S).strip()
    quoted = [q for tag in tags for q in re.findall(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"", tag)]
    strings = [a or b for a, b in quoted]
    text = "".join([literal, *strings]).replace("\\n", "\n")
    printed = sum(tag.startswith("{{") for tag in tags)
    return len(tokenizer.encode(text, add_special_tokens=False)) + 2 * printed + 4


def _compile(source: str, tokens: dict):
    """The chat template as transformers renders it: a sandboxed jinja2 environment with trim_blocks and
    lstrip_blocks, `tojson` and `raise_exception`."""
    import json

    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = lambda value, **kw: json.dumps(value, ensure_ascii=False, **kw)
    env.globals["raise_exception"] = _raise
    template = env.from_string(source)
    return lambda messages: template.render(messages=messages, add_generation_prompt=True, **tokens)


def _token_text(value) -> str:
    return value.get("content", "") if isinstance(value, dict) else (value or "")


def _raise(message: str):
    raise ValueError(message)
