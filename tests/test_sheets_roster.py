"""``dlv generate --roster``: one variant per student, depending only on (seed, student, problem)."""

from __future__ import annotations

import yaml


def _roster(tmp_path, name: str, students: list[str], extra_column: bool = True) -> str:
    path = tmp_path / name
    lines = ["student,name" if extra_column else "student"] + [f"{s},Name {s}" if extra_column else s for s in students]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _by_id(dlv, *args) -> dict[str, dict]:
    r = dlv("generate", *args)
    assert r.code == 0, r.stderr
    return {p["id"]: p for p in yaml.safe_load(r.stdout)}


def test_one_variant_per_student_with_ids_and_student_key(dlv, tmp_path):
    roster = _roster(tmp_path, "class.csv", ["s01", "s02", "s03"])
    problems = _by_id(dlv, "focal", "--seed", 4, "--count", 2, "--roster", roster)
    assert list(problems) == ["s01/focal-1", "s01/focal-2", "s02/focal-1", "s02/focal-2", "s03/focal-1", "s03/focal-2"]
    assert all(p["student"] == pid.split("/")[0] for pid, p in problems.items())
    # the students' variants differ (options other than the answers)
    variants = {yaml.safe_dump({k: v for k, v in p.items() if k not in ("id", "student", "expect")}) for p in problems.values()}
    assert len(variants) == 6


def test_a_growing_roster_changes_no_one_elses_variant(dlv, tmp_path):
    small = _roster(tmp_path, "small.csv", ["ana", "ben"])
    grown = _roster(tmp_path, "grown.csv", ["zoe", "ben", "carl", "ana", "dan"], extra_column=False)  # new ones, other order
    for command in ("interp-ap", "bptt", "focal", "box-compare", "tconv"):
        before = _by_id(dlv, command, "--seed", 9, "--count", 2, "--roster", small)
        after = _by_id(dlv, command, "--seed", 9, "--count", 2, "--roster", grown)
        assert len(after) == 10
        for pid, problem in before.items():
            assert after[pid] == problem, (command, pid)


def test_the_variant_depends_on_seed_student_and_problem(dlv, tmp_path):
    roster = _roster(tmp_path, "r.csv", ["ana"])
    one = _by_id(dlv, "tconv", "--seed", 1, "--count", 3, "--roster", roster)
    two = _by_id(dlv, "tconv", "--seed", 2, "--count", 3, "--roster", roster)
    assert one != two
    more = _by_id(dlv, "tconv", "--seed", 1, "--count", 5, "--roster", roster)
    assert all(more[pid] == p for pid, p in one.items())  # a longer --count adds problems, keeps these
    # solved, the roster sheet holds
    text = dlv("generate", "tconv", "--seed", 1, "--count", 3, "--roster", roster).stdout
    assert dlv("solve", "-", stdin=text).code == 0


def test_roster_errors(dlv, tmp_path):
    (tmp_path / "none.csv").write_text("id,name\ns1,A\n", encoding="utf-8")
    (tmp_path / "empty.csv").write_text("student,name\ns1,A\n,B\n", encoding="utf-8")
    (tmp_path / "twice.csv").write_text("student\ns1\ns2\ns1\n", encoding="utf-8")
    cases = [("none.csv", "student"), ("empty.csv", "line 3"), ("twice.csv", "'s1' is already on line 2")]
    for name, message in cases:
        r = dlv("generate", "tconv", "--seed", 1, "--roster", tmp_path / name)
        assert r.code == 2 and r.stdout == "" and r.stderr.startswith("error: ") and message in r.stderr, (name, r.stderr)
