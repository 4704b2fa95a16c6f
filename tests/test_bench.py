"""The benchmark runs and prints its figures (a smoke test: speed is reported, never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


RATES = {"sign_per_s", "verify_per_s", "sign_ms_median", "verify_ms_median", "sign_per_cpu_s", "verify_per_cpu_s"}


def test_sign_verify_benchmark_prints_its_figures() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "sign_verify.py"), "--n", "6", "--peer-n", "2", "--rounds", "1", "--json"],
        capture_output=True, text=True, timeout=240, check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(figures[key] > 0 for key in RATES) and all(figures["pyld"][key] > 0 for key in RATES)
    assert set(figures["ratio"]) == {"sign", "verify"}
    assert {"expansion (pyld, safe mode, memo)", "to canonical N-Quads (Oxigraph)", "hashing (SHA-256 x2)",
            "signing (Ed25519)", "verifying (Ed25519)"} <= set(figures["steps_ms"])
    assert figures["oxigraph_documents"] == "6/6"  # the typical credential never falls back to pyld
    node_installed = (ROOT / "tests" / "interop" / "node_modules" / "@digitalbazaar" / "vc").is_dir()
    if node_installed:  # the reference stack signed and verified the same documents
        assert all(figures["node"][key] > 0 for key in RATES)
    else:
        assert figures["node"].startswith("not installed")
    assert figures["machine"]["peer_documents"] == 2


def test_verify_batch_benchmark_runs_on_a_tiny_batch() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "verify_batch.py"), "--sizes", "10", "--sample", "5", "--json"],
        capture_output=True, text=True, timeout=300, check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["single_process_per_s"] > 0 and figures["batches"]["10"]["counted"] == 10
