"""The four data formats: validate a parsed row and view it as (prompt, target) plus the texts to inspect.

`data.fields` maps a canonical field onto the user's column; an extractor is built once per audit with the
column names resolved, so the per-row work is a few dict lookups.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat

from ftspec.data.text import placeholder_gate

ROLES = ("system", "user", "assistant", "tool")


class RowProblem(Exception):
    """A row that cannot be used as it is: `check` is schema_error or empty_field."""

    def __init__(self, check: str, message: str):
        super().__init__(message)
        self.check = check


@dataclass(slots=True)
class View:
    prompt: str
    target: str
    texts: tuple  # every text field of the row, checked for placeholders
    layout: tuple  # (label, is_target, placeholder gate) of each text; shared by rows where the format fixes it
    rejected: str | None = None  # preference rows only


Extractor = Callable[[object], View]


@dataclass(slots=True)
class Columns:
    """A batch of well-formed rows of a flat format, field by field: the audit's fast path."""

    texts: list  # one list of strings per text field, in layout order; the last is the target
    layout: tuple
    prompt_fields: int  # the prompt is the first this many texts, joined by a newline where not empty

    def prompts(self) -> list[str]:
        if self.prompt_fields == 1:
            return self.texts[0]
        return [f"{first}\n{second}" if second else first for first, second in zip(*self.texts[:2], strict=True)]

    def views(self) -> list[View]:
        return list(map(View, self.prompts(), self.texts[-1], zip(*self.texts, strict=True), repeat(self.layout)))


ColumnExtractor = Callable[[list], "Columns | None"]


def make_column_extractor(data_format: str, fields: dict[str, str]) -> ColumnExtractor | None:
    """For the flat formats, a function from a batch of records to their Columns, or to None when any record is
    not an object of non-empty strings (then every row of the batch goes through the format's Extractor)."""
    if data_format == "instruction":
        names = [fields.get(name, name) for name in ("instruction", "input", "output")]
        return _column_extractor(names, _layout(("instruction", False), ("input", False), ("output", True)), 2)
    if data_format == "prompt_completion":
        names = [fields.get(name, name) for name in ("prompt", "completion")]
        return _column_extractor(names, _layout(("prompt", False), ("completion", True)), 1)
    return None


def _column_extractor(names: list[str], layout: tuple, prompt_fields: int) -> ColumnExtractor:
    optional = 1 if prompt_fields == 2 else None  # the input of the instruction format may be missing or ""

    def extract(records: list) -> Columns | None:
        try:  # dict.get refuses anything but a dict
            texts = [list(map(dict.get, records, repeat(name))) for name in names]
        except TypeError:
            return None
        if optional is not None and None in texts[optional]:
            texts[optional] = ["" if value is None else value for value in texts[optional]]
        for i, column in enumerate(texts):
            if set(map(type, column)) != {str}:
                return None
            if i != optional and (not all(column) or any(map(str.isspace, column))):
                return None
        return Columns(texts, layout, prompt_fields)

    return extract


def make_extractor(data_format: str, fields: dict[str, str]) -> Extractor:
    column = {name: fields.get(name, name) for name in ("instruction", "input", "output", "prompt", "completion",
                                                          "messages", "chosen", "rejected", "tags")}
    return {"instruction": _instruction, "prompt_completion": _prompt_completion, "chat": _chat,
            "preference": _preference}[data_format](column)


def _text(record: dict, column: str, name: str, *, required: bool = True) -> str:
    value = record.get(column)
    if type(value) is str:
        return value
    if value is None:
        if not required:
            return ""
        where = f" (column `{column}`)" if column != name else ""
        raise RowProblem("schema_error", f"missing required field `{name}`{where}")
    raise RowProblem("schema_error", f"`{column}` is a {_type_name(value)}, not a string")


def _layout(*fields: tuple[str, bool]) -> tuple:
    return tuple((label, is_target, placeholder_gate(is_target)) for label, is_target in fields)


def _require_text(pairs: tuple) -> None:
    """Raise empty_field naming every required text that is empty or only whitespace."""
    empty = [f"`{label}`" for label, text in pairs if not text or text.isspace()]
    if empty:
        raise RowProblem("empty_field", " and ".join(empty) + (" is empty" if len(empty) == 1 else " are empty"))


def _type_name(value: object) -> str:
    return {dict: "object", list: "list", bool: "boolean", int: "number", float: "number"}.get(type(value),
                                                                                             type(value).__name__)


def _require_object(record: object) -> dict:
    if type(record) is not dict:
        raise RowProblem("schema_error", f"the row is a {_type_name(record)}, not an object")
    return record


def _instruction(column: dict) -> Extractor:
    ins_col, inp_col, out_col = column["instruction"], column["input"], column["output"]
    layout = _layout(("instruction", False), ("input", False), ("output", True))

    def view(record: object) -> View:
        if type(record) is not dict:
            _require_object(record)
        instruction, given, output = record.get(ins_col), record.get(inp_col), record.get(out_col)
        # the common case is three strings: test that inline and leave the messages to _text
        if type(instruction) is not str or type(output) is not str or type(given) is not str:
            instruction = _text(record, ins_col, "instruction")
            given = _text(record, inp_col, "input", required=False)
            output = _text(record, out_col, "output")
        if not instruction or not output or instruction.isspace() or output.isspace():
            _require_text((("instruction", instruction), ("output", output)))
        prompt = f"{instruction}\n{given}" if given else instruction
        return View(prompt, output, (instruction, given, output), layout)

    return view


def _prompt_completion(column: dict) -> Extractor:
    prompt_col, completion_col = column["prompt"], column["completion"]
    layout = _layout(("prompt", False), ("completion", True))

    def view(record: object) -> View:
        if type(record) is not dict:
            _require_object(record)
        prompt, completion = record.get(prompt_col), record.get(completion_col)
        if type(prompt) is not str or type(completion) is not str:
            prompt = _text(record, prompt_col, "prompt")
            completion = _text(record, completion_col, "completion")
        if not prompt or not completion or prompt.isspace() or completion.isspace():
            _require_text((("prompt", prompt), ("completion", completion)))
        return View(prompt, completion, (prompt, completion), layout)

    return view


def _chat(column: dict) -> Extractor:
    messages_col = column["messages"]

    def view(record: object) -> View:
        record = _require_object(record)
        messages = _messages(record.get(messages_col), messages_col)
        roles = [m["role"] for m in messages]
        _check_turn_order(roles)
        last = len(roles) - 1 - roles[::-1].index("assistant")
        labels = [f"messages[{i}].content" for i in range(len(messages))]
        _require_text(tuple((label, m["content"]) for label, m in zip(labels, messages, strict=True)
                            if m["role"] in ("user", "assistant")))
        prompt = "\n".join(f"{m['role']}: {m['content']}" for m in messages[:last])
        return View(prompt, messages[last]["content"], tuple(m["content"] for m in messages),
                    _layout(*((label, m["role"] == "assistant") for label, m in zip(labels, messages, strict=True))))

    return view


def _messages(value: object, column: str, name: str = "messages") -> list[dict]:
    if isinstance(value, str):  # CSV cells hold the conversation as JSON text
        try:
            value = json.loads(value)
        except ValueError:
            raise RowProblem("schema_error", f"`{column}` is text that is not a JSON list of messages") from None
    if value is None:
        raise RowProblem("schema_error", f"missing required field `{name}`")
    if type(value) is not list or not value:
        raise RowProblem("schema_error", f"`{column}` must be a non-empty list of {{role, content}} messages")
    for i, message in enumerate(value):
        if type(message) is not dict:
            raise RowProblem("schema_error", f"{column}[{i}] is a {_type_name(message)}, not an object")
        role, content = message.get("role"), message.get("content")
        if type(role) is not str:
            raise RowProblem("schema_error", f"{column}[{i}] has no `role`")
        if role not in ROLES:
            raise RowProblem("schema_error", f"unknown role `{role}` in {column}[{i}]; use {', '.join(ROLES)}")
        if type(content) is not str:
            what = "no `content`" if content is None else f"a {_type_name(content)} `content`, not a string"
            raise RowProblem("schema_error", f"{column}[{i}] has {what}")
    return value


def _check_turn_order(roles: list[str]) -> None:
    """system first (optional), then user and assistant alternating from user; tool turns answer the assistant."""
    if "assistant" not in roles:
        raise RowProblem("schema_error", "no assistant turn: nothing to learn from this conversation")
    previous = None
    for i, role in enumerate(roles):
        if role == "system" and i != 0:
            raise RowProblem("schema_error", f"turns in the wrong order: system at messages[{i}], not first")
        expected = _NEXT.get(previous, ())
        if role != "system" and role not in expected:
            raise RowProblem("schema_error", f"turns in the wrong order: {role} after "
                                             f"{previous or 'the start'} at messages[{i}]")
        previous = role
    if roles[-1] != "assistant":
        raise RowProblem("schema_error", f"turns in the wrong order: the conversation ends with a {roles[-1]} turn")


_NEXT = {None: ("user",), "system": ("user",), "user": ("assistant",), "assistant": ("user", "tool"),
         "tool": ("tool", "assistant")}


def _preference(column: dict) -> Extractor:
    prompt_col, chosen_col, rejected_col = column["prompt"], column["chosen"], column["rejected"]
    layout = _layout(("prompt", False), ("chosen", True), ("rejected", True))

    def view(record: object) -> View:
        record = _require_object(record)
        prompt = _pref_text(record, prompt_col, "prompt")
        chosen = _pref_text(record, chosen_col, "chosen")
        rejected = _pref_text(record, rejected_col, "rejected")
        _require_text((("prompt", prompt), ("chosen", chosen), ("rejected", rejected)))
        return View(prompt, chosen, (prompt, chosen, rejected), layout, rejected)

    return view


def _pref_text(record: dict, column: str, name: str) -> str:
    """A string, or TRL's conversational form: a list of messages, flattened to 'role: content' lines."""
    value = record.get(column)
    if type(value) is list:
        return "\n".join(f"{m['role']}: {m['content']}" for m in _messages(value, column, name))
    return _text(record, column, name)
