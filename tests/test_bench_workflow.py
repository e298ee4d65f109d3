"""The workflow benchmark's arithmetic: per-rule sums of wall and CPU seconds, peak memory,
and the comparison with a previous run (benchmarks/bench_workflow.py)."""

import importlib.util

from paths import REPO


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_workflow", REPO / "benchmarks" / "bench_workflow.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def test_jobs_of_a_rule_are_summed_and_their_peak_taken(tmp_path):
    bench = _bench()
    (tmp_path / "profile_pages").mkdir()
    (tmp_path / "profile_pages" / "0.tsv").write_text(
        HEADER + "10.5\t0:00:10\t200\t0\t0\t0\t0\t0\t1\t9.0\n"
    )
    (tmp_path / "profile_pages" / "1.tsv").write_text(
        HEADER + "4.5\t0:00:04\t250\t0\t0\t0\t0\t0\t1\t4.0\n"
    )
    (tmp_path / "index_outputs.tsv").write_text(
        HEADER + "3.0\t0:00:03\t900\t0\t0\t0\t0\t0\t1\t2.5\n"
    )
    rules = bench.rule_figures(tmp_path)
    assert rules["profile_pages"] == {"seconds": 15.0, "cpu_s": 13.0, "peak_mb": 250.0, "jobs": 2}
    assert rules["index_outputs"] == {"seconds": 3.0, "cpu_s": 2.5, "peak_mb": 900.0, "jobs": 1}


def test_comparison_prints_wall_cpu_and_memory_ratios():
    bench = _bench()
    old = {
        "sizes": [
            {
                "children": 10,
                "wall_s": 100.0,
                "rules": {
                    "derive_children": {"seconds": 10.0, "cpu_s": 8.0, "peak_mb": 100.0, "jobs": 1}
                },
            }
        ]
    }
    new = {
        "sizes": [
            {
                "children": 10,
                "wall_s": 150.0,
                "rules": {
                    "derive_children": {"seconds": 20.0, "cpu_s": 8.0, "peak_mb": 50.0, "jobs": 1}
                },
            }
        ]
    }
    lines = bench.compare(old, new)
    assert any("wall x1.50" in line for line in lines)
    row = next(line for line in lines if "derive_children" in line)
    assert "time x2.00" in row and "CPU x1.00" in row and "memory x0.50" in row


def test_an_older_record_without_cpu_seconds_is_still_compared():
    bench = _bench()
    old = {
        "sizes": [
            {
                "children": 10,
                "wall_s": 100.0,
                "rules": {"synth": {"seconds": 10.0, "peak_mb": 100.0, "jobs": 1}},
            }
        ]
    }
    new = {
        "sizes": [
            {
                "children": 10,
                "wall_s": 90.0,
                "rules": {"synth": {"seconds": 9.0, "cpu_s": 8.0, "peak_mb": 100.0, "jobs": 1}},
            }
        ]
    }
    row = next(line for line in bench.compare(old, new) if "synth" in line)
    assert "time x0.90" in row and "CPU" not in row
