"""Shell completion (docs/shell-completion.md): the scripts, and answers to the shell's requests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DLV = Path(sys.executable).with_name("dlv")
needs_dlv = pytest.mark.skipif(not DLV.exists(), reason="the dlv script is not installed next to this Python")


@pytest.mark.parametrize("shell, line", [
    ("bash", "complete -o default -F _dlv_completion dlv"),
    ("zsh", "compdef _dlv_completion dlv"),
    ("fish", "complete --command dlv"),
])
def test_show_completion_prints_the_script(dlv, shell, line):
    result = dlv("--show-completion", shell)
    assert result.code == 0, result.stderr
    assert line in result.stdout and "_DLV_COMPLETE=complete_" in result.stdout


@needs_dlv
def test_completing_an_option_through_click_variables():
    """The shell runs dlv with _DLV_COMPLETE, COMP_WORDS and COMP_CWORD; dlv answers --method."""
    env = {**os.environ, "_DLV_COMPLETE": "bash_complete", "COMP_WORDS": "dlv interp-ap --me", "COMP_CWORD": "2"}
    done = subprocess.run([str(DLV)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["--method"]


def test_completing_values_and_commands(dlv, monkeypatch):
    monkeypatch.setenv("_DLV_COMPLETE", "complete_bash")  # the order typer's scripts send
    monkeypatch.setenv("COMP_WORDS", "dlv interp-ap --method ")
    monkeypatch.setenv("COMP_CWORD", "3")
    assert dlv().stdout.split() == ["11point", "allpoint", "101point"]
    monkeypatch.setenv("COMP_WORDS", "dlv bo")
    monkeypatch.setenv("COMP_CWORD", "1")
    assert dlv().stdout.split() == ["box-compare"]


@needs_dlv
@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_script_completes_in_bash():
    """The printed script, sourced in bash, fills COMPREPLY by calling dlv back."""
    script = (
        'source <(dlv --show-completion bash)\n'
        'COMP_WORDS=(dlv interp-ap --me); COMP_CWORD=2\n'
        '_dlv_completion dlv\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{DLV.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["bash", "--norc", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["--method"]


def test_install_completion_writes_where_the_shell_reads(dlv, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    result = dlv("--install-completion", "fish")
    target = tmp_path / ".config" / "fish" / "completions" / "dlv.fish"
    assert result.code == 0 and str(target) in result.stdout
    assert target.read_text().startswith("complete --command dlv")
    assert dlv("--install-completion=bash").code == 0
    assert "source '" in (tmp_path / ".bashrc").read_text()
    assert (tmp_path / ".bash_completions" / "dlv.sh").read_text() == dlv("--show-completion", "bash").stdout.rstrip("\n")


@pytest.mark.parametrize("args, message", [
    (["--show-completion", "tcsh"], "unsupported shell"),
    (["--show-completion", "bash", "zsh"], "takes one SHELL"),
])
def test_bad_completion_requests(dlv, args, message):
    result = dlv(*args)
    assert result.code == 2 and result.stderr.startswith("error:") and message in result.stderr


def test_bad_instruction(dlv, monkeypatch):
    monkeypatch.setenv("_DLV_COMPLETE", "tcsh_complete")
    result = dlv()
    assert result.code == 2 and result.stderr.startswith("error:")
