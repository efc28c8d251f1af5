"""A dry run of the prompt format, for `explain` and the build's decision.md: the first training row rendered as
train.py will render it, with the learned span marked, and the few-shot eval prompt, with their token counts.

It runs the generated scripts' own helpers (templates/_common.py.j2, rendered for this plan) over a stand-in for the
transformers tokenizer made of the model's tokenizer.json (tokenizers) and its chat template (a sandboxed jinja2),
so what it shows is what the scripts do, without torch or transformers.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from ftspec.compiler.modelinfo import TokenizerInfo, render_chat
from ftspec.compiler.plan import Plan
from ftspec.spec.load import LoadedSpec

PREVIEW_CHARS = 600  # a long row is cut in the middle: the start and the learned end matter


class PreviewTokenizer:
    """The part of a transformers tokenizer the scripts' helpers call."""

    def __init__(self, file: Path, info: TokenizerInfo):
        from tokenizers import Tokenizer

        self.backend = Tokenizer.from_file(str(file))
        self.info = info
        self.eos_token, self.bos_token, self.pad_token = info.eos, info.bos, info.pad
        self.eos_token_id = self.backend.token_to_id(info.eos) if info.eos else None

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict:
        return {"input_ids": self.backend.encode(text, add_special_tokens=add_special_tokens).ids}

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=False):
        return render_chat(self.info.chat_template, messages, self.info, add_generation_prompt)

    def decode(self, ids) -> str:
        return self.backend.decode(ids, skip_special_tokens=False)


def dry_run_lines(loaded: LoadedSpec, plan: Plan) -> list[str]:
    """Markdown lines; none where there is no model on disk with a tokenizer.json, or no readable training row."""
    try:
        return _dry_run(loaded, plan)
    except Exception as error:  # noqa: BLE001 - a preview must never stop explain or build; say why it is missing
        return ["", f"Dry run: not possible ({type(error).__name__}: {error})."]


def _dry_run(loaded: LoadedSpec, plan: Plan) -> list[str]:
    from ftspec.compiler.modelcheck import locate_model

    if plan.model is None or plan.hyperparameters is None:
        return []
    spec_model = next(m for m in loaded.spec.models if m.name == plan.model.name)
    files = locate_model(loaded, spec_model)
    if files is None or not (files.folder / "tokenizer.json").is_file():
        return []
    row = _first_row(loaded)
    if row is None:
        return []
    helpers = _helpers(loaded, plan)
    tokenizer = PreviewTokenizer(files.folder / "tokenizer.json", files.tokenizer)
    fmt = helpers["load_prompt_format"]()
    prompt = helpers["build_prompt"](row, tokenizer, fmt)
    completion = helpers["completion_text"](row, tokenizer, fmt, prompt)
    if plan.model.is_encoder_decoder:
        record = helpers["seq2seq_record"](tokenizer, prompt, completion, fmt)
        prompt_ids, learned = record["input_ids"], record["labels"]
    else:
        ids, mask = helpers["encode_example"](tokenizer, prompt, completion, fmt)
        learned = [i for i, m in zip(ids, mask, strict=True) if m]
        prompt_ids = ids[: mask.index(1) if 1 in mask else len(ids)]
    limit = plan.hyperparameters.max_seq_length
    lines = ["", "Dry run on the first training row, as train.py renders it (the learned span between ⟦ ⟧):", "",
             "```", _cut(tokenizer.decode(prompt_ids)) + "⟦" + _cut(tokenizer.decode(learned)) + "⟧", "```", "",
             f"{len(prompt_ids)} prompt + {len(learned)} learned tokens (max_seq_length {limit})" +
             (": the row is cut to fit" if len(prompt_ids) + len(learned) > limit and not plan.model.is_encoder_decoder
              else "") + "."]
    shots = [b.get("k", 3) for b in plan.evaluation.baselines if b["name"] == "base_few_shot"]
    if shots:
        few_shot = helpers["build_prompt"](row, tokenizer, fmt, [row] * int(shots[0]))
        count = len(helpers["encode_prompt"](tokenizer, few_shot, fmt))
        lines.append(f"The {shots[0]}-shot eval prompt of the same row: {count} tokens, plus up to "
                     f"{plan.evaluation.max_new_tokens} generated.")
    return lines


def _first_row(loaded: LoadedSpec) -> dict | None:
    from ftspec.data.readers import read_rows

    data = loaded.spec.data
    for row in read_rows(loaded.resolve(data.train[0]), name=data.train[0]):
        return row.record if isinstance(row.record, dict) else None
    return None


def _helpers(loaded: LoadedSpec, plan: Plan) -> dict:
    """_common.py.j2 rendered for this plan and loaded as a module, beside a prompt_format.json for it."""
    import json
    import tempfile

    from ftspec.compiler.render import ScriptPaths, make_environment, prompt_format

    paths = ScriptPaths(train=[str(loaded.resolve(p)) for p in plan.data.train])
    text = make_environment().get_template("_common.py.j2").render(plan=plan, paths=asdict(paths),
                                                                    hp=plan.hyperparameters)
    folder = Path(tempfile.mkdtemp(prefix="ftspec-dryrun-"))
    try:
        (folder / "prompt_format.json").write_text(json.dumps(prompt_format(plan)), encoding="utf-8")
        namespace = {"__file__": str(folder / "dryrun.py"), "__name__": "ftspec_dryrun"}
        exec(compile("import csv, json, re, zlib\nfrom pathlib import Path\n" + text, "_common.py", "exec"),
             namespace)  # noqa: S102 - ftspec's own template; spec strings enter it only as literals
        fmt = namespace["load_prompt_format"]()
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    namespace["load_prompt_format"] = lambda: fmt
    return namespace


def _cut(text: str) -> str:
    if len(text) <= PREVIEW_CHARS:
        return text
    half = PREVIEW_CHARS // 2
    return f"{text[:half]} … {text[-half:]}"
