"""Helpers for the MFA tests (CONTRACT §12): enrol an account, the two log-in steps, fresh TOTP codes.

A TOTP step is accepted once per account (and the confirming step is spent), so `Authenticator`
hands out codes of steps not used yet, in increasing order, within the ±1 step the service
accepts; when none is left it waits for the next 30-s step.
"""

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyotp
from sqlalchemy import text

from gatehouse.entrypoints.settings import Settings
from tests.e2e.conftest import PASSWORD, Account, Api, assert_envelope

V1 = "/api/v1"
TOKEN = f"{V1}/auth/token"
TOKEN_MFA = f"{V1}/auth/token/mfa"
REFRESH = f"{V1}/auth/refresh"
LOGOUT = f"{V1}/auth/logout"
USERS = f"{V1}/users"
ME = f"{USERS}/me"
TOTP = f"{ME}/mfa/totp"
TOTP_CONFIRM = f"{ME}/mfa/totp/confirm"
RECOVERY_CODES = f"{ME}/mfa/recovery-codes"
MY_MFA = f"{ME}/mfa"
STEP = 30
SAFETY_SECONDS = 3.0  # a code must stay within ±1 step until the service has checked it
RECOVERY_CODE = r"[a-z2-7]{5}-[a-z2-7]{5}"
MFA_TABLES = ("mfa_enrolments", "mfa_recovery_codes", "mfa_challenges")


@dataclass
class Authenticator:
    """The user's TOTP app: codes of steps this account has not used yet."""

    secret: str
    last_step: int | None = None

    @property
    def totp(self) -> pyotp.TOTP:
        return pyotp.TOTP(self.secret)

    def _usable_steps(self) -> list[int]:
        now = time.time()
        low, high = int(now + SAFETY_SECONDS) // STEP - 1, int(now) // STEP + 1
        return [s for s in range(low, high + 1) if self.last_step is None or s > self.last_step]

    async def code(self) -> str:
        """A right code of an unused step, which the caller then spends (the step is remembered)."""
        steps = self._usable_steps()
        while not steps:
            await asyncio.sleep(STEP - time.time() % STEP + 0.05)
            steps = self._usable_steps()
        self.last_step = steps[0]
        return self.totp.at(steps[0] * STEP)

    def wrong_code(self) -> str:
        """A 6-digit code of none of the steps the service could accept now."""
        now_step = int(time.time()) // STEP
        accepted = {self.totp.at((now_step + d) * STEP) for d in range(-2, 3)}
        return next(c for c in (f"{n:06d}" for n in range(0, 10**6, 7919)) if c not in accepted)

    def spent_code(self) -> str:
        """The code of the step last spent (it must be refused now)."""
        assert self.last_step is not None
        return self.totp.at(self.last_step * STEP)


@dataclass
class Enrolled:
    account: Account
    app: Authenticator
    recovery_codes: list[str] = field(default_factory=list)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def start_enrolment(api: Api, account: Account, password: str = PASSWORD) -> dict[str, Any]:
    response = await api.client.post(TOTP, json={"password": password}, headers=account.auth)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return dict(response.json())


async def enrol(api: Api, account: Account) -> Enrolled:
    """Turn MFA on for `account` (its session stays); the app and the 10 recovery codes."""
    app = Authenticator(str((await start_enrolment(api, account))["secret"]))
    response = await api.client.post(TOTP_CONFIRM, json={"code": await app.code()}, headers=account.auth)
    assert response.status_code == 200, response.text
    return Enrolled(account, app, list(response.json()["recovery_codes"]))


async def enrolled_account(api: Api, role: str = "user") -> Enrolled:
    return await enrol(api, await api.create_account(role))


async def password_step(api: Api, identifier: str, password: str = PASSWORD) -> httpx.Response:
    return await api.client.post(TOKEN, json={"email": identifier, "password": password})


async def mfa_token(api: Api, identifier: str, password: str = PASSWORD) -> str:
    """The `mfa_token` of the 403 that a right password gets on an account with MFA on."""
    body = assert_envelope(await password_step(api, identifier, password), 403, "MfaRequiredError")
    return str(body["mfa_token"])


async def second_step(api: Api, token: str, code: str) -> httpx.Response:
    return await api.client.post(TOKEN_MFA, json={"mfa_token": token, "code": code})


async def log_in(api: Api, enrolled: Enrolled) -> dict[str, Any]:
    """Both steps with a fresh TOTP code: the token pair."""
    token = await mfa_token(api, enrolled.account.email)
    response = await second_step(api, token, await enrolled.app.code())
    assert response.status_code == 200, response.text
    return dict(response.json())


async def me(api: Api, access_token: str) -> httpx.Response:
    return await api.client.get(ME, headers=bearer(access_token))


async def mfa_enabled(api: Api, account: Account) -> bool:
    """`mfa_enabled` of the account as an admin reads it (the account's own session may be gone)."""
    response = await api.client.get(f"{USERS}/{account.id}", headers=(await api.admin()).auth)
    assert response.status_code == 200, response.text
    return bool(response.json()["mfa_enabled"])


def assert_unauthenticated(response: httpx.Response) -> None:
    assert_envelope(response, 401, "AuthenticationError")
    assert response.headers["www-authenticate"] == "Bearer"


async def table_text(api: Api, table: str) -> str:
    """Every row of `table` as text (binary columns as hex and as bytes decoded leniently)."""
    async with api.container.database().read_engine.connect() as conn:
        rows = (await conn.execute(text(f"SELECT * FROM {table}"))).all()  # noqa: S608 - our names
    parts = []
    for row in rows:
        for value in row:
            if isinstance(value, bytes | memoryview):
                raw = bytes(value)
                parts += [raw.hex(), raw.decode("latin-1")]
            else:
                parts.append(str(value))
    return "\n".join(parts)


async def count_rows(api: Api, table: str) -> int:
    async with api.container.database().read_engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT COUNT(*) FROM {table}"))).scalar_one())  # noqa: S608


def settings_of(api: Api) -> Settings:
    settings: Settings = api.container.settings()
    return settings
