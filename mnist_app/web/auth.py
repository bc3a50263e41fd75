"""The admin password, checked on the server for every admin action.

Hiding the admin tab protects nothing: a raw API caller reaches the same handlers, so each
one calls `require` itself. Comparison is constant-time and failed guesses are slowed down
one after another, server-wide, so even parallel guessing stays slow.
"""

import hmac
import os
import secrets
import threading
import time

PASSWORD_ENV = "MNIST_ADMIN_PASSWORD"


class AdminAuth:
    def __init__(
        self,
        password: str | None = None,
        first_delay_s: float = 0.25,
        max_delay_s: float = 2.0,
        forget_after_s: float = 60.0,
    ) -> None:
        chosen = password or os.environ.get(PASSWORD_ENV)
        self._generated = not chosen
        self._password = (chosen or secrets.token_urlsafe(12)).encode()
        self._announced = False
        self._first_delay_s = first_delay_s
        self._max_delay_s = max_delay_s
        self._forget_after_s = forget_after_s
        self._failures = 0
        self._last_failure = 0.0
        self._penalty = threading.Lock()

    def __repr__(self) -> str:
        return "AdminAuth(password=<hidden>)"

    def announce(self) -> str | None:
        """The line to print once at start-up when the password was generated; None otherwise."""
        if not self._generated or self._announced:
            return None
        self._announced = True
        return f"Admin password (set {PASSWORD_ENV} to choose one): {self._password.decode()}"

    def failure_delay_s(self) -> float:
        """The wait imposed on the latest failure (0 before any): doubles with each failure, up to the cap."""
        if self._failures == 0:
            return 0.0
        return min(self._max_delay_s, self._first_delay_s * 2 ** (self._failures - 1))

    def check(self, given: object) -> bool:
        ok = isinstance(given, str) and hmac.compare_digest(given.encode(), self._password)
        if ok:
            return True
        # Failures queue behind one lock, so the delay limits guesses per second for the whole server.
        with self._penalty:
            now = time.monotonic()
            if now - self._last_failure > self._forget_after_s:
                self._failures = 0
            self._failures += 1
            time.sleep(self.failure_delay_s())
            self._last_failure = time.monotonic()
        return False

    def require(self, given: object) -> None:
        if not self.check(given):
            raise PermissionError("Wrong admin password")
