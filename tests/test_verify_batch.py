"""`microcred verify-batch`: mixed good and bad rows, a missing column, output checked row by row."""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from app_support import clean_environment, initialised_app, module_config
from licensure_support import EDUCATOR_EMAIL, RecordingServer, credential, issue_ours
from verifier_support import new_key

STRANGER = new_key()
HEADER = ["name", "email", "license_number", "license_type", "license_valid_from", "license_valid_until", "credential"]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with clean_environment():
        application = initialised_app(module_config(tmp_path_factory, "verify-batch", fetch_allowed_hosts="127.0.0.1"))
        yield application
        application.extensions["microcred"].database.dispose()


def _run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["verify-batch", *args])


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


# Row number -> (counted, reason) of the mixed batch below.
MIXED_EXPECTED = {
    2: ("yes", ""), 3: ("no", "duplicate"), 4: ("no", "not_this_educator"), 5: ("no", "issuer_not_recognised"),
    6: ("no", "not_verified"), 7: ("no", "not_verified"), 8: ("no", "not_verified"), 9: ("no", "bad_row"),
    10: ("yes", ""), 11: ("no", "not_verified"), 12: ("no", "not_this_educator"), 13: ("no", "not_verified"),
}


def mixed_batch(app: Flask, folder: Path, server: RecordingServer) -> tuple[Path, Path]:
    """A batch of 12 rows, good and bad (the CSV and its zip in `folder`); MIXED_EXPECTED says what each gives.
    Row 10 is fetched from `server`; row 11 names the same server as localhost, which is not allowed."""
    ours = issue_ours(app)
    second = issue_ours(app, slug="thinking-creative")
    someone_else = issue_ours(app, email="other.teacher@schools.example", slug="thinking-analytical")
    foreign = credential(STRANGER, earned=datetime.now(UTC).replace(microsecond=0))
    server.routes["/c.json"] = (200, json.dumps(second).encode(), "application/json")
    with zipfile.ZipFile(folder / "files.zip", "w") as archive:
        archive.writestr("ours.json", json.dumps(ours))
        archive.writestr("again.json", json.dumps(ours))
        archive.writestr("second.json", json.dumps(second))
        archive.writestr("else.json", json.dumps(someone_else))
        archive.writestr("foreign.json", json.dumps(foreign))
        archive.writestr("garbage.png", b"\x89PNG\r\n\x1a\ntruncated")
        archive.writestr("bomb.json", b" " * (5 * 1024 * 1024), compress_type=zipfile.ZIP_DEFLATED)
    pat = ["Pat Educator", EDUCATOR_EMAIL, "TN-1", "practitioner", "2020-01-01", "2030-12-31"]
    lee = ["Lee Other", "lee@schools.example", "TN-2", "professional", "2020-01-01", "2030-12-31"]
    rows = [pat + ["ours.json"], pat + ["again.json"], pat + ["else.json"], pat + ["foreign.json"],
            pat + ["garbage.png"], pat + ["bomb.json"], pat + ["missing.json"],
            pat[:4] + ["not a date", "2030-12-31", "ours.json"], pat + [server.url("/c.json")],
            pat + [server.url("/c.json", host="localhost")],
            lee + ["second.json"], lee + [""]]
    _write_csv(folder / "in.csv", rows)
    return folder / "in.csv", folder / "files.zip"


def check_mixed_results(rows: list[dict[str, str]], summaries: list[dict[str, str]]) -> None:
    """The per-row results and per-educator summaries of mixed_batch, row by row."""
    out = {int(r["row"]): r for r in rows}
    assert sorted(out) == list(range(2, 14))
    assert {n: (r["counted"], r["reason"]) for n, r in out.items()} == MIXED_EXPECTED
    assert "zip bomb" in out[7]["message"] and "no file named" in out[8]["message"]
    assert "license_valid_from" in out[9]["message"] and "localhost" in out[11]["message"]
    by_license = {r["license_number"]: r for r in summaries}
    assert by_license["TN-1"]["pdps_total"] == "12" and by_license["TN-1"]["threshold"] == "30"
    assert by_license["TN-1"]["met"] == "no" and "duplicate: 1" in by_license["TN-1"]["excluded"]
    assert by_license["TN-2"]["counted"] == "0" and by_license["TN-2"]["credentials"] == "2"


def test_a_mixed_batch(app: Flask, tmp_path: Path) -> None:
    with RecordingServer() as server:
        input_csv, files = mixed_batch(app, tmp_path, server)
        result = _run(app, str(input_csv), "--files", str(files), "--out", str(tmp_path / "out.csv"), "--jobs", "2")
        assert server.hits == ["/c.json"]  # the forbidden host was never asked
    assert result.exit_code == 0, result.output
    check_mixed_results(_read(tmp_path / "out.csv"), _read(tmp_path / "out.renewal.csv"))
    assert "12 rows (1 bad)" in result.output


def test_a_missing_column_is_named_and_exits_2(app: Flask, tmp_path: Path) -> None:
    _write_csv(tmp_path / "in.csv", [["Pat", EDUCATOR_EMAIL, "TN-1", "practitioner", "2020-01-01", "x"]],
               header=HEADER[:5] + ["credential"])
    result = _run(app, str(tmp_path / "in.csv"), "--out", str(tmp_path / "out.csv"))
    assert result.exit_code == 2
    assert "'license_valid_until'" in result.output


def test_an_unreadable_csv_exits_2(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_bytes(b"\xff\xfe\x00garbage")
    result = _run(app, str(tmp_path / "in.csv"), "--out", str(tmp_path / "out.csv"))
    assert result.exit_code == 2 and "Cannot" in result.output


def test_a_job_that_is_not_waiting_to_start_exits_2(app: Flask, tmp_path: Path) -> None:
    _write_csv(tmp_path / "in.csv", [])
    result = _run(app, str(tmp_path / "in.csv"), "--out", str(tmp_path / "out.csv"), "--job", "999")
    assert result.exit_code == 2 and "not waiting to start" in result.output
