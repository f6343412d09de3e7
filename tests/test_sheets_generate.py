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
    args = ["generate", command, "--seed", str(seed), "--count", "4", *extra]
    if command == "interp-ap":
        args += ["--data-dir", str(tmp_path / "data")]
    return args


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


def test_interp_ap_writes_its_tables_into_the_data_folder(dlv, tmp_path, monkeypatch):
    need("interp-ap")
    monkeypatch.chdir(tmp_path)
    r = dlv("generate", "interp-ap", "--seed", "3", "--count", "2", "--data-dir", "ap")
    assert r.code == 0, r.stderr
    problems = yaml.safe_load(r.stdout)
    assert [p["file"] for p in problems] == ["ap/interp-ap-s3-1.csv", "ap/interp-ap-s3-2.csv"]
    assert (tmp_path / "ap" / "interp-ap-s3-1.csv").read_text().splitlines()[0] in ("score,tp", "rank,tp")
    # saved next to the data folder, the sheet solves from anywhere
    (tmp_path / "sheet.yaml").write_text(r.stdout)
    monkeypatch.chdir("/")
    assert dlv("solve", tmp_path / "sheet.yaml").code == 0


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
        (["generate", "interp-ap", "--seed", "1"], "--data-dir"),
        (["generate", "tconv", "--seed", "1", "--count", "0"], "--count"),
        (["generate", "tconv", "--seed", "x"], "--seed"),
    ],
)
def test_generate_usage_errors(dlv, args, message):
    r = dlv(*args)
    assert r.code == 2 and r.stdout == ""
    assert r.stderr.startswith("error:") and message in r.stderr, r.stderr
