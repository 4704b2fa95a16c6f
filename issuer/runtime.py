"""What a running app (or CLI command) holds: settings, database, catalogue files, issuer identity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app

from badge_classes import Catalog

from .config import Settings
from .db import Database
from .errors import NotInitialisedError
from .identity import IssuerIdentity


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    database: Database
    catalog: Catalog  # the definition files as validated at start-up; the database holds versions
    clock: Callable[[], datetime] = utc_now  # what the pages take as "now" (tests pin it)
    _identity: IssuerIdentity | None = field(default=None, repr=False)

    def now(self) -> datetime:
        """The current time in UTC, from the clock."""
        return self.clock()

    def identity(self) -> IssuerIdentity:
        """The issuer identity; NotInitialisedError when the instance has no key yet."""
        if self._identity is None:
            if not self.settings.keys_dir.exists():
                raise NotInitialisedError(
                    f"The instance at {self.settings.instance_dir} is not initialised: run `microcred init`."
                )
            self._identity = IssuerIdentity.open(self.settings)
        return self._identity

    def require_initialised(self) -> None:
        """Raise NotInitialisedError unless migrations are applied and a signing key exists."""
        try:
            current = self.database.is_current()
        except Exception as exc:
            reason = str(getattr(exc, "orig", exc)).splitlines()[0] if str(exc) else type(exc).__name__
            raise NotInitialisedError(
                f"The database {self.database_label()} cannot be used ({reason}). If it is new, run `microcred init`."
            ) from None
        if not current:
            raise NotInitialisedError(
                f"The database {self.database_label()} is not initialised or not up to date: run `microcred init`."
            )
        self.identity().store.active()

    def database_label(self) -> str:
        """The database URL without user and password, for messages."""
        url = self.database.url
        return url.split("@")[-1] if "@" in url else url


def runtime() -> Runtime:
    """The Runtime of the current app."""
    return current_app.extensions["microcred"]
