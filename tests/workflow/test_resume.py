"""make run resumes after a killed run: a stale Snakemake lock is removed and incomplete
files are made again, but only when no other make run holds the folder."""

import fcntl
import subprocess

import pytest

from child_mdh.cli import RUN_LOCK, run_workflow
from child_mdh.errors import UserError


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, command, cwd, check):
        self.calls.append(command[1:])
        return subprocess.CompletedProcess(command, 0)


def test_a_killed_run_is_unlocked_and_its_incomplete_files_made_again(tmp_path):
    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("stale")  # what a killed run leaves
    runner = Recorder()
    assert run_workflow(["--cores", "2"], tmp_path, runner) == 0
    assert runner.calls == [["--cores", "2", "--unlock"], ["--cores", "2", "--rerun-incomplete"]]


def test_a_clean_folder_is_not_unlocked(tmp_path):
    runner = Recorder()
    run_workflow(["--cores", "1"], tmp_path, runner)
    assert runner.calls == [["--cores", "1", "--rerun-incomplete"]]


def test_a_second_run_in_the_same_folder_is_refused(tmp_path):
    (tmp_path / RUN_LOCK).parent.mkdir(parents=True)
    with open(tmp_path / RUN_LOCK, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a make run in progress
        runner = Recorder()
        with pytest.raises(UserError, match="another 'make run' is running"):
            run_workflow(["--cores", "1"], tmp_path, runner)
        assert runner.calls == []  # its lock is left alone
