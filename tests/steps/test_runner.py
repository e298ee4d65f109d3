"""A workflow step's logging: every record to the rule's log file, one line of what the
step did (and any warning or error) to the terminal."""

from types import SimpleNamespace

import pytest

from child_mdh.errors import UserError
from child_mdh.steps._runner import PROGRESS, SUMMARY, step_logging, step_progress


def _smk(tmp_path):
    return SimpleNamespace(log=[str(tmp_path / "logs" / "step.log")])


def test_terminal_gets_the_summary_line_and_warnings_the_file_everything(tmp_path, capsys):
    with step_logging(_smk(tmp_path), "derive_children") as log:
        log.info("report:\n%s", "{\n  92 lines of JSON\n}")
        log.warning("3 rows quarantined")
        log.info("children table: 20,000 children", extra=SUMMARY)
    terminal = capsys.readouterr().err.splitlines()
    assert terminal == [
        "  derive_children: 3 rows quarantined",
        "  derive_children: children table: 20,000 children",
    ]
    written = (tmp_path / "logs" / "step.log").read_text()
    assert "92 lines of JSON" in written and "children table: 20,000 children" in written


def test_without_a_log_file_the_details_go_to_the_terminal(capsys):
    with step_logging(SimpleNamespace(log=[]), "synth") as log:
        log.info("persons: 40,000 rows")
    assert "persons: 40,000 rows" in capsys.readouterr().err


def test_a_user_error_is_one_message_and_exit_status_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop, step_logging(_smk(tmp_path), "validate_inputs"):
        raise UserError("areas.csv: column la_code is missing; add it")
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "areas.csv: column la_code is missing" in err and "Traceback" not in err


def test_a_long_loop_says_where_it_is_in_a_few_lines(tmp_path, capsys):
    with step_logging(_smk(tmp_path), "profile_pages") as log:
        progress = step_progress(log, "chunk 1 of 2: pages", 77)
        for done in range(1, 78):
            progress(done)
        log.info("chunk 1 of 2: 77 local authority pages", extra=SUMMARY)
    terminal = [line.rsplit(" (", 1)[0] for line in capsys.readouterr().err.splitlines()]
    # a line at each quarter, none per page, none at the end (the summary says it)
    assert terminal == [
        "  profile_pages: chunk 1 of 2: pages 20/77",
        "  profile_pages: chunk 1 of 2: pages 39/77",
        "  profile_pages: chunk 1 of 2: pages 58/77",
        "  profile_pages: chunk 1 of 2: 77 local authority pages",
    ]
    assert "pages 39/77" in (tmp_path / "logs" / "step.log").read_text()


def test_progress_of_a_short_loop_or_a_skipped_count_stays_calm(tmp_path, capsys):
    with step_logging(_smk(tmp_path), "profile_pages") as log:
        one, two = step_progress(log, "page", 1), step_progress(log, "pages", 2)
        one(1)  # nothing: the summary line says it
        two(1)
        two(2)
        jumpy = step_progress(log, "pages", 100)
        jumpy(90)  # past three marks at once: one line
        jumpy(95)
        log.info("models of any_cin", extra=PROGRESS)
    terminal = capsys.readouterr().err.splitlines()
    assert [line.rsplit(" (", 1)[0] for line in terminal] == [
        "  profile_pages: pages 1/2",
        "  profile_pages: pages 90/100",
        "  profile_pages: models of any_cin",
    ]
