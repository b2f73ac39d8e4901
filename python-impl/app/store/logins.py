"""Failed logins per account and per client address, in fixed windows, kept in the database that every instance
(of either implementation) shares: throttling holds across processes."""

import time
from dataclasses import dataclass

from app.core.db import Database


@dataclass(frozen=True, slots=True)
class Throttle:
    max_account_failures: int  # failures for one email within a window before its logins are refused
    max_address_failures: int  # failures from one client address within a window before its logins are refused
    window_seconds: int


class LoginFailures:
    def __init__(self, db: Database, throttle: Throttle) -> None:
        self._db = db
        self._throttle = throttle

    @staticmethod
    def keys(email_key: str, address: str) -> tuple[str, str]:
        return f"account:{email_key}", f"address:{address}"

    async def retry_after(self, email_key: str, address: str) -> int | None:
        """Seconds until a login for this email from this address is tried again; None when it may be now."""
        account, client = self.keys(email_key, address)
        now = int(time.time())
        rows = await self._db.fetch_all(
            "SELECT key, failures, window_start FROM login_failures"
            " WHERE key IN (:account, :client) AND window_start > :since",
            {"account": account, "client": client, "since": now - self._throttle.window_seconds},
        )
        limit = {account: self._throttle.max_account_failures, client: self._throttle.max_address_failures}
        waits = [start + self._throttle.window_seconds - now for key, failures, start in rows if failures >= limit[key]]
        return max(1, max(waits)) if waits else None

    async def failed(self, email_key: str, address: str) -> None:
        """Counts a failure for both keys; a key whose window has passed starts a new one."""
        now = int(time.time())
        since = now - self._throttle.window_seconds
        for key in self.keys(email_key, address):
            await self._db.execute(
                "INSERT INTO login_failures (key, failures, window_start) VALUES (:key, 1, :now)"
                " ON CONFLICT (key) DO UPDATE SET"
                " failures = CASE WHEN login_failures.window_start <= :since THEN 1"
                " ELSE login_failures.failures + 1 END,"
                " window_start = CASE WHEN login_failures.window_start <= :since THEN :now"
                " ELSE login_failures.window_start END",
                {"key": key, "now": now, "since": since},
            )
        # Windows that have passed count nothing: dropping them keeps the table as small as the attack.
        await self._db.execute("DELETE FROM login_failures WHERE window_start <= :since", {"since": since})

    async def succeeded(self, email_key: str) -> None:
        """A right password clears the account's count (not the address's: one success hides no stuffing)."""
        await self._db.execute("DELETE FROM login_failures WHERE key = :key", {"key": self.keys(email_key, "")[0]})
