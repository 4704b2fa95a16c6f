"""The benchmark runs and prints its figures (a smoke test: speed is reported, never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_sign_verify_benchmark_prints_its_figures() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "sign_verify.py"), "--n", "5", "--json"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(figures) == {"sign_per_s", "verify_per_s", "sign_ms_median", "verify_ms_median"}
    assert all(value > 0 for value in figures.values())


def test_verify_batch_benchmark_runs_on_a_tiny_batch() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "verify_batch.py"), "--sizes", "10", "--sample", "5", "--json"],
        capture_output=True, text=True, timeout=300, check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["single_process_per_s"] > 0 and figures["batches"]["10"]["counted"] == 10
