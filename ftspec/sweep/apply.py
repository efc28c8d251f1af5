"""`ftspec sweep --apply`: the best trial's settings written into the spec's `training:` section, as a patch that
keeps the file's comments and layout (ruamel's round trip), written atomically. Returns the diff."""

from __future__ import annotations

import difflib
import io
from pathlib import Path

from ftspec.fsutil import atomic_write_text


def spec_patch(text: str, settings: dict) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML()  # round-trip: comments, order and quoting stay
    yaml.preserve_quotes = True
    yaml.width = 4096
    doc = yaml.load(text)
    training = doc.setdefault("training", CommentedMap())
    for key, value in settings.items():
        if key.startswith("lora_"):
            training.setdefault("lora", CommentedMap())[key[len("lora_"):]] = value
        else:
            training[key] = value
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def apply_settings(spec: Path, settings: dict) -> str:
    """Patch the spec in place; the unified diff ('' when nothing changed)."""
    before = Path(spec).read_text(encoding="utf-8")
    after = spec_patch(before, settings)
    if after != before:
        atomic_write_text(Path(spec), after)
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"{spec} (before)", tofile=f"{spec} (best trial)"))
