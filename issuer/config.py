"""Settings of an installation, from MICROCRED_* environment variables (or a dict in tests).

All state lives under one instance directory: database (SQLite default), keys, uploads, secrets.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .errors import ConfigError

DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"


@dataclass(frozen=True)
class Settings:
    instance_dir: Path
    database_url: str
    base_url: str | None  # when set, the issuer is did:web of it
    issuer_name: str = "Department of Education: Teacher Micro-credentials"
    issuer_email: str = "microcredentials@education.example.gov"
    issuer_url: str | None = None
    catalog_dir: Path | None = None  # None: the catalogue shipped in badge_classes/
    proxy_count: int = 0  # reverse proxies in front of the app whose X-Forwarded-* headers to trust
    in_progress_limit: int = 3  # micro-credentials a teacher may have open at once (the pilot: three)
    max_upload_mb: int = 100  # per evidence file (classroom video is large)
    blind_review: bool = True  # assessors see no teacher name or district until they decide
    assessor_own_district: bool = True  # may an assessor review teachers of their own district?
    smtp_url: str | None = None  # smtp://user:password@host:port (smtps:// for TLS); unset: log only
    mail_from: str = "microcredentials@education.example.gov"
    linkedin_organization_id: str | None = None  # the issuer's LinkedIn company id, for "Add to profile"
    # Licensure verifier (issue 6): what the service may fetch, rate limits, renewal thresholds.
    fetch_allowed_hosts: frozenset[str] = frozenset()  # hosts fetched even on private addresses (or plain http)
    fetch_timeout: float = 5.0  # seconds per fetch of a credential, DID document or status list
    fetch_ca_file: str | None = None  # PEM of extra certificate authorities the verifier trusts (an agency CA)
    ratelimit_storage: str = "memory://"  # Flask-Limiter storage, e.g. redis://127.0.0.1:6379
    verify_rate_limit: str = "30/minute;300/hour"  # anonymous POST /api/v1/verify and /credentials/verify
    own_issuer_since: str = "2017-07-01"  # our issuer is recognised from this date (the pilot's start)
    pdp_thresholds: str = "professional=60,practitioner=30,advancement=30"
    web_batch_max_rows: int = 20_000  # rows a web batch job takes; the CLI takes any size
    batch_jobs_running: int = 2  # web batch jobs running at once; one more is refused until one ends
    batch_job_workers: int = 0  # worker processes of a web batch job; 0: every core
    batch_job_stale_minutes: int = 10  # a running job without progress for this long is failed
    batch_retention_days: int = 90  # a finished job's files (educators' details, credentials) are then removed
    # Programme data (docs/programme-data.md): surveys of a programme year (1 July - 30 June) can be
    # changed until this day (month, day) of the year's second calendar year; the end-of-year survey
    # is offered from `year_survey_opens` (the pilot's final survey ran in April/May).
    surveys_close: tuple[int, int] = (6, 30)
    year_survey_opens: tuple[int, int] = (4, 1)
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def public_url(self) -> str:
        """Where people reach this service (links in credentials); the base URL or the demo address."""
        return (self.base_url or DEFAULT_PUBLIC_URL).rstrip("/")

    @property
    def keys_dir(self) -> Path:
        return self.instance_dir / "keys"

    @property
    def uploads_dir(self) -> Path:
        return self.instance_dir / "uploads"

    @property
    def secrets_dir(self) -> Path:
        return self.instance_dir / "secrets"


def load_settings(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment; `overrides` (keys without the MICROCRED_ prefix, lower case) win."""
    env = dict(os.environ if environ is None else environ)
    over = {k.lower(): v for k, v in (overrides or {}).items()}

    def pick(name: str, default: Any = None) -> Any:
        if name in over:
            return over[name]
        return env.get("MICROCRED_" + name.upper()) or default

    instance = Path(pick("instance", "instance")).resolve()
    database_url = pick("database_url") or f"sqlite:///{instance / 'microcred.sqlite3'}"
    passphrase = over.get("key_passphrase")
    if passphrase:
        env["MICROCRED_KEY_PASSPHRASE"] = passphrase
    return Settings(
        instance_dir=instance,
        database_url=database_url,
        base_url=(pick("base_url") or None),
        issuer_name=pick("issuer_name", Settings.issuer_name),
        issuer_email=pick("issuer_email", Settings.issuer_email),
        issuer_url=pick("issuer_url"),
        catalog_dir=Path(pick("catalog_dir")).resolve() if pick("catalog_dir") else None,
        proxy_count=_whole_number("MICROCRED_PROXY_COUNT", pick("proxy_count", 0)),
        in_progress_limit=_whole_number("MICROCRED_IN_PROGRESS_LIMIT", pick("in_progress_limit", 3)),
        max_upload_mb=_whole_number("MICROCRED_MAX_UPLOAD_MB", pick("max_upload_mb", 100)),
        blind_review=_flag("MICROCRED_BLIND_REVIEW", pick("blind_review", True)),
        assessor_own_district=_flag("MICROCRED_ASSESSOR_OWN_DISTRICT", pick("assessor_own_district", True)),
        smtp_url=pick("smtp_url"),
        mail_from=pick("mail_from", Settings.mail_from),
        linkedin_organization_id=pick("linkedin_organization_id"),
        fetch_allowed_hosts=frozenset(h.strip().lower() for h in str(pick("fetch_allowed_hosts", "")).split(",")
                                      if h.strip()),
        fetch_timeout=_seconds("MICROCRED_FETCH_TIMEOUT", pick("fetch_timeout", 5.0)),
        fetch_ca_file=_readable_file("MICROCRED_FETCH_CA_FILE", pick("fetch_ca_file")),
        ratelimit_storage=pick("ratelimit_storage", Settings.ratelimit_storage),
        verify_rate_limit=pick("verify_rate_limit", Settings.verify_rate_limit),
        own_issuer_since=_day("MICROCRED_OWN_ISSUER_SINCE", pick("own_issuer_since", Settings.own_issuer_since)),
        pdp_thresholds=_thresholds(pick("pdp_thresholds", Settings.pdp_thresholds)),
        web_batch_max_rows=_whole_number("MICROCRED_WEB_BATCH_MAX_ROWS", pick("web_batch_max_rows", 20_000)),
        batch_jobs_running=_whole_number("MICROCRED_BATCH_JOBS_RUNNING", pick("batch_jobs_running", 2)),
        batch_job_workers=_whole_number("MICROCRED_BATCH_JOB_WORKERS", pick("batch_job_workers", 0)),
        batch_job_stale_minutes=_whole_number("MICROCRED_BATCH_JOB_STALE_MINUTES",
                                              pick("batch_job_stale_minutes", 10)),
        batch_retention_days=_whole_number("MICROCRED_BATCH_RETENTION_DAYS", pick("batch_retention_days", 90)),
        surveys_close=_month_day("MICROCRED_SURVEYS_CLOSE", pick("surveys_close", "06-30")),
        year_survey_opens=_month_day("MICROCRED_YEAR_SURVEY_OPENS", pick("year_survey_opens", "04-01")),
        environ=env,
    )


def secret_key(settings: Settings, *, create: bool) -> str | None:
    """Flask's session key: MICROCRED_SECRET_KEY, else one generated once into the instance by
    `microcred init` (never a built-in default). None before the instance exists."""
    configured = settings.environ.get("MICROCRED_SECRET_KEY")
    if configured:
        return configured
    path = settings.secrets_dir / "flask-secret-key"
    if path.exists():
        return path.read_text().strip()
    if not create:
        return None
    settings.secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def _whole_number(name: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise ConfigError(f"{name} must be a whole number (0 or more), not {value!r}.")
    return number


def _month_day(name: str, value: Any) -> tuple[int, int]:
    """A day of the year written MM-DD (29 February is refused: it is not in every year)."""
    if isinstance(value, tuple):
        return value
    try:
        month, day = (int(part) for part in str(value).strip().split("-"))
        date(2027, month, day)
        return month, day
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a day of the year written MM-DD (for example 06-30), not {value!r}.") from None


def parse_thresholds(text: str) -> dict[str, float]:
    """MICROCRED_PDP_THRESHOLDS ('professional=60,practitioner=30,advancement=30') as a dict."""
    out: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"MICROCRED_PDP_THRESHOLDS must read like 'professional=60,practitioner=30', "
                              f"not {text!r}.") from None
    return out


def _thresholds(text: str) -> str:
    parse_thresholds(text)  # checked at start-up; kept as text (it is passed on to batch processes)
    return text


def _day(name: str, value: Any) -> str:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{name} must be a date (YYYY-MM-DD), not {value!r}.") from None
    return str(value)


def _readable_file(name: str, value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not Path(str(value)).is_file():
        raise ConfigError(f"{name} names {value!r}, which is not a readable file.")
    return str(value)


def _seconds(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not 0 < number <= 120:
        raise ConfigError(f"{name} must be a number of seconds between 0 and 120, not {value!r}.")
    return number


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}.")
