"""Helpers for the data audit tests: a project folder written into tmp_path, with its spec and data files."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def project(tmp_path: Path, monkeypatch):
    """project(data_yaml, files={name: text or bytes}, extra_yaml='') -> the spec path. The test runs in the
    project's folder, as a user would: the audit shows paths relative to the current folder."""
    monkeypatch.chdir(tmp_path)

    def make(data_yaml: str, files: dict[str, str | bytes], extra: str = "",
             models: str = "  - {name: m, hub: org/model, params: 1B}\n") -> Path:
        for name, content in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        spec = tmp_path / "project.yaml"
        spec.write_text(f"ftspec: 1\nname: t\n{extra}data:\n{data_yaml}models:\n{models}", encoding="utf-8")
        return spec

    return make
