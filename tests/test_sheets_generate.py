"""``dlv generate``: seeded sheets that ``dlv solve`` passes, the same bytes for the same seed."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
import yaml

from dlvcli.sheets.generate import GENERATORS, SIZE_OPTIONS

MODULES = {"interp-ap": "interp_ap", "bptt": "bptt", "focal": "focal", "box-compare": "box_compare", "tconv": "tconv"}
SEEDS = (0, 1, 7, 2024)

# per command: extra size options exercised besides the defaults
VARIANTS = {
    "interp-ap": [[], ["--detections", "23"]],
    "bptt": [[], ["--steps", "5", "--hidden", "2"]],
    "focal": [[], ["--probs", "5"]],
    "box-compare": [[], ["--boxes", "4"]],
    "tconv": [[], ["--size", "5"]],
}


def need(command: str) -> None:
    if importlib.util.find_spec(f"dlvcli.cli.{MODULES[command]}") is None:
        pytest.skip(f"dlv {command} is not built yet (no dlvcli/cli/{MODULES[command]}.py)")


def generate_args(command: str, seed: int, extra: list[str], tmp_path) -> list[str]:
    return ["generate", command, "--seed", str(seed), "--count", "4", *extra]


def test_every_contract_command_has_a_generator():
    assert set(GENERATORS) == set(MODULES)
    for commands, *_ in SIZE_OPTIONS.values():
        assert set(commands) <= set(GENERATORS)


@pytest.mark.parametrize("variant", [0, 1])
@pytest.mark.parametrize("command", list(MODULES))
def test_generated_sheets_solve_and_repeat_byte_for_byte(dlv, tmp_path, command, variant):
    need(command)
    sheets = set()
    for seed in SEEDS:
        args = generate_args(command, seed, VARIANTS[command][variant], tmp_path)
        first = dlv(*args)
        assert first.code == 0, first.stderr
        again = dlv(*args)
        assert again.stdout == first.stdout  # the same seed prints the same bytes
        sheets.add(first.stdout)
        problems = yaml.safe_load(first.stdout)
        assert len(problems) == 4 and all(p["command"] == command and p["expect"] for p in problems)
        assert len({p["id"] for p in problems}) == 4
        solved = dlv("solve", "-", "--json", stdin=first.stdout)
        assert solved.code == 0, solved.stdout[-2000:] + solved.stderr
        doc = solved.json()
        assert doc["ok"] and doc["summary"]["checks"] >= 4
    assert len(sheets) == len(SEEDS)  # different seeds, different problems


def test_count_extends_the_same_stream(dlv):
    need("tconv")
    two = yaml.safe_load(dlv("generate", "tconv", "--seed", "5", "--count", "2").stdout)
    five = yaml.safe_load(dlv("generate", "tconv", "--seed", "5", "--count", "5").stdout)
    assert five[:2] == two


def test_interp_ap_needs_no_data_folder(dlv, tmp_path, monkeypatch):
    need("interp-ap")
    monkeypatch.chdir(tmp_path)
    r = dlv("generate", "interp-ap", "--seed", "1", "--count", "3")
    assert r.code == 0, r.stderr
    problems = yaml.safe_load(r.stdout)
    assert all("file" not in p and isinstance(p["tp"], list) for p in problems)
    assert list(tmp_path.iterdir()) == []  # nothing written
    legacy = dlv("generate", "interp-ap", "--seed", "1", "--count", "3", "--data-dir", "ap")
    assert legacy.code == 0 and legacy.stdout == r.stdout and "--data-dir is not needed" in legacy.stderr


def test_pipe_between_two_processes_and_hash_seed_independence(tmp_path):
    """The installed program: ``dlv generate … | dlv solve -``, and the same bytes whatever PYTHONHASHSEED."""
    need("bptt")
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        gen = subprocess.run([sys.executable, "-m", "dlvcli", "generate", "bptt", "--seed", "11", "--count", "3"],
                             capture_output=True, text=True, env=env, check=True)
        outputs.append(gen.stdout)
    assert outputs[0] == outputs[1]
    solved = subprocess.run([sys.executable, "-m", "dlvcli", "solve", "-"], input=outputs[0], capture_output=True, text=True)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert "3 problems" in solved.stdout and "all hold" in solved.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["generate", "tconv", "--count", "2"], "missing --seed"),
        (["generate", "conv", "--seed", "1"], "unknown command 'conv'"),
        (["generate", "solve", "--seed", "1"], "unknown command 'solve'"),
        (["generate", "tconv", "--seed", "1", "--steps", "3"], "--steps is for bptt, not tconv"),
        (["generate", "tconv", "--seed", "1", "--size", "1"], "--size"),
        (["generate", "tconv", "--seed", "1", "--count", "0"], "--count"),
        (["generate", "tconv", "--seed", "x"], "--seed"),
    ],
)
def test_generate_usage_errors(dlv, args, message):
    r = dlv(*args)
    assert r.code == 2 and r.stdout == ""
    assert r.stderr.startswith("error:") and message in r.stderr, r.stderr
