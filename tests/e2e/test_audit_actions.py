"""§10 the audit trail's content: every listed action, stamped with its request's IP and id, no secrets."""

import json
import time
import uuid
from typing import Any

import httpx
import pyotp

from gatehouse.application.ports.audit import AuditAction
from tests.e2e.account_support import (
    AUTH,
    CONFIRM,
    NEW_PASSWORD,
    RESET,
    SIGN_UP_PASSWORD,
    USERS,
    VERIFY,
    actions_of,
    audit_trail,
    last_token,
    pending_to,
    sign_up,
)
from tests.e2e.conftest import PASSWORD, Api, assert_envelope
from tests.e2e.orders_support import ORDER

WRONG_PASSWORD = "Wrong-Guess-5150"
CHANGED_PASSWORD = "Changed-Pass-6021"
ALL_ACTIONS = {a.value for a in AuditAction}


class Flow:
    """Drives one account's life with a fresh X-Request-ID per request, remembering which request
    should have caused which event, and every secret that went over the wire."""

    def __init__(self, api: Api, admin: dict[str, str]) -> None:
        self.api = api
        self.admin = admin
        self.uid = 0
        self.email = "audited@example.com"
        self.expected: list[tuple[str, str]] = []  # (action, request id)
        self.secrets: set[str] = {PASSWORD, SIGN_UP_PASSWORD, WRONG_PASSWORD, CHANGED_PASSWORD, NEW_PASSWORD}

    @property
    def user(self) -> str:
        return f"{USERS}/{self.uid}"

    async def call(
        self, method: str, url: str, causes: str | tuple[str, ...] | None, status: int, **kwargs: Any
    ) -> httpx.Response:
        request_id = f"flow-{uuid.uuid4().hex}"
        extra = kwargs.pop("headers", {})
        response = await self.api.client.request(
            method, url, headers={**extra, "X-Request-ID": request_id}, **kwargs
        )
        assert response.status_code == status, response.text
        assert response.headers["x-request-id"] == request_id
        for action in (causes,) if isinstance(causes, str) else causes or ():
            self.expected.append((action, request_id))
        if "access_token" in response.text:
            self.secrets |= {response.json()["access_token"], response.json()["refresh_token"]}
        return response

    async def log_in(self, password: str) -> tuple[dict[str, str], str]:
        """A new session: its bearer header and its refresh token."""
        body = {"email": self.email, "password": password}
        tokens = (await self.call("POST", f"{AUTH}/token", "auth.login_succeeded", 200, json=body)).json()
        return {"Authorization": f"Bearer {tokens['access_token']}"}, tokens["refresh_token"]

    async def mailed_token(self, page: str) -> str:
        token = await last_token(self.api, self.email, page)
        self.secrets.add(token)
        return token

    async def join(self) -> None:
        body = {"email": self.email, "username": "audited", "password": SIGN_UP_PASSWORD}
        self.uid = (await self.call("POST", USERS, "user.created", 201, json=body)).json()["id"]
        wrong = {"email": self.email, "password": WRONG_PASSWORD}
        await self.call("POST", f"{AUTH}/token", "auth.login_failed", 401, json=wrong)
        token = await self.mailed_token("verify-email")
        await self.call("POST", VERIFY, "auth.email_verified", 204, json={"token": token})

    async def edit_and_order(self) -> None:
        auth, refresh = await self.log_in(SIGN_UP_PASSWORD)
        await self.call("PATCH", self.user, "user.updated", 200, json={"full_name": "A. P."}, headers=auth)
        await self.call(
            "PATCH", self.user, "user.role_changed", 200, json={"role": "moderator"}, headers=self.admin
        )
        order = await self.call("POST", f"{self.user}/orders", "order.created", 201, json=ORDER, headers=auth)
        one = f"{self.user}/orders/{order.json()['id']}"
        await self.call(
            "PATCH", one, "order.status_changed", 200, json={"status": "paid"}, headers=self.admin
        )
        await self.call("DELETE", one, "order.deleted", 204, headers=self.admin)
        spend = {"refresh_token": refresh}
        await self.call("POST", f"{AUTH}/refresh", None, 200, json=spend)
        await self.call("POST", f"{AUTH}/refresh", "auth.refresh_reuse_detected", 401, json=spend)

    async def sessions_and_passwords(self) -> None:
        auth, _ = await self.log_in(SIGN_UP_PASSWORD)
        change = {"current_password": SIGN_UP_PASSWORD, "new_password": CHANGED_PASSWORD}
        await self.call(
            "POST", f"{USERS}/me/password", "auth.password_changed", 204, json=change, headers=auth
        )
        auth, _ = await self.log_in(CHANGED_PASSWORD)
        await self.call("POST", f"{AUTH}/logout", "auth.logout", 204, headers=auth)
        await self.call("POST", RESET, "auth.password_reset_requested", 202, json={"email": self.email})
        reset = {"token": await self.mailed_token("reset-password"), "new_password": NEW_PASSWORD}
        await self.call("POST", CONFIRM, "auth.password_reset", 204, json=reset)
        auth, _ = await self.log_in(NEW_PASSWORD)
        sessions = (await self.api.client.get(f"{USERS}/me/sessions", headers=auth)).json()["items"]
        await self.call(
            "DELETE", f"{USERS}/me/sessions/{sessions[0]['id']}", "session.revoked", 204, headers=auth
        )

    async def two_factor(self) -> None:
        """Enrol, renew the recovery codes, a wrong code, a log-in by recovery code, turn it off."""
        auth, _ = await self.log_in(NEW_PASSWORD)
        mine = f"{USERS}/me/mfa"
        start = {"password": NEW_PASSWORD}
        secret = (await self.call("POST", f"{mine}/totp", None, 200, json=start, headers=auth)).json()[
            "secret"
        ]
        app, step = pyotp.TOTP(secret), int(time.time()) // 30
        confirm = {"code": app.at(step * 30)}
        enrolled = await self.call(
            "POST", f"{mine}/totp/confirm", "auth.mfa_enabled", 200, json=confirm, headers=auth
        )
        renew = {"code": app.at((step + 1) * 30)}
        renewed = await self.call(
            "POST", f"{mine}/recovery-codes", "auth.recovery_codes_renewed", 200, json=renew, headers=auth
        )
        codes = renewed.json()["recovery_codes"]
        self.secrets |= {secret, *enrolled.json()["recovery_codes"], *codes}
        body = {"email": self.email, "password": NEW_PASSWORD}
        challenge = (await self.call("POST", f"{AUTH}/token", None, 403, json=body)).json()["mfa_token"]
        self.secrets.add(challenge)
        wrong = {"mfa_token": challenge, "code": "000000" if app.now() != "000000" else "111111"}
        await self.call("POST", f"{AUTH}/token/mfa", "auth.mfa_failed", 401, json=wrong)
        right = {"mfa_token": challenge, "code": codes[0]}
        causes = ("auth.login_succeeded", "auth.recovery_code_used")
        await self.call("POST", f"{AUTH}/token/mfa", causes, 200, json=right)
        off = {"password": NEW_PASSWORD, "code": codes[1]}
        await self.call("DELETE", mine, "auth.mfa_disabled", 204, json=off, headers=auth)

    async def api_token(self) -> None:
        """Create an API token by a session (the secret is never audited), and revoke it."""
        auth, _ = await self.log_in(NEW_PASSWORD)
        body = {"name": "audited script", "scopes": ["profile:read"]}
        made = await self.call("POST", f"{USERS}/me/tokens", "token.created", 201, json=body, headers=auth)
        self.secrets.add(made.json()["token"])
        await self.call(
            "DELETE", f"{USERS}/me/tokens/{made.json()['id']}", "token.revoked", 204, headers=auth
        )

    async def leave(self) -> None:
        off = {"is_active": False}
        await self.call("PATCH", self.user, "user.deactivated", 200, json=off, headers=self.admin)
        await self.call("DELETE", self.user, "user.deleted", 204, headers=self.admin)


async def run_every_action(api: Api) -> Flow:
    """One account's life, from sign-up to deletion, touching every audited action."""
    flow = Flow(api, (await api.admin()).auth)
    await flow.join()
    await flow.edit_and_order()
    await flow.sessions_and_passwords()
    await flow.two_factor()
    await flow.api_token()
    await flow.leave()
    return flow


async def test_every_listed_action_is_recorded_with_the_ip_and_request_id_that_caused_it(api: Api) -> None:
    flow = await run_every_action(api)
    trail = await audit_trail(api)

    assert {action for action, _ in flow.expected} == ALL_ACTIONS
    for action, request_id in flow.expected:
        matching = [e for e in trail if e["request_id"] == request_id and e["action"] == action]
        assert len(matching) == 1, (action, request_id, trail)
        assert matching[0]["ip"] == "127.0.0.1"
        assert matching[0]["user_id"] == flow.uid


async def test_events_name_the_actor_who_made_the_change(api: Api) -> None:
    flow = await run_every_action(api)
    admin, uid = await api.admin(), flow.uid
    by_action = {e["action"]: e for e in await audit_trail(api, user_id=uid)}

    assert by_action["user.created"]["actor_id"] is None  # an anonymous sign-up
    assert by_action["user.role_changed"]["actor_id"] == admin.id
    assert by_action["user.deleted"]["actor_id"] == admin.id
    assert by_action["order.created"]["actor_id"] == uid


async def test_the_events_of_a_deleted_user_remain_with_their_user_id(api: Api) -> None:
    uid = (await run_every_action(api)).uid

    kept = await actions_of(api, uid)

    assert kept[0] == "user.created"
    assert kept[-1] == "user.deleted"
    assert set(kept) == ALL_ACTIONS
    assert (await api.client.get(f"{USERS}/{uid}", headers=(await api.admin()).auth)).status_code == 404


async def test_no_event_holds_a_password_a_hash_or_a_token(api: Api) -> None:
    flow = await run_every_action(api)
    admin = await api.admin()
    flow.secrets |= {admin.token, admin.refresh_token}

    serialised = json.dumps(await audit_trail(api))

    assert "$argon2" not in serialised
    leaked = sorted(secret for secret in flow.secrets if secret in serialised)
    assert leaked == []
    assert len(flow.secrets) > 10  # passwords, every access/refresh token and the two mailed tokens


async def test_a_failed_log_in_for_an_unknown_email_has_no_user_and_names_the_email(api: Api) -> None:
    await sign_up(api, "known_person")
    unknown = {"email": "Nobody.Known@Example.com", "password": WRONG_PASSWORD}
    wrong = {"email": "known_person@example.com", "password": WRONG_PASSWORD}

    for_unknown = await api.client.post(f"{AUTH}/token", json=unknown)
    for_wrong = await api.client.post(f"{AUTH}/token", json=wrong)

    a = assert_envelope(for_unknown, 401, "AuthenticationError")
    b = assert_envelope(for_wrong, 401, "AuthenticationError")
    del a["request_id"], b["request_id"]
    assert a == b
    assert for_unknown.headers["www-authenticate"] == for_wrong.headers["www-authenticate"] == "Bearer"
    failed = await audit_trail(api, action="auth.login_failed")
    [event] = [e for e in failed if e["request_id"] == for_unknown.headers["x-request-id"]]
    assert event["user_id"] is None
    assert event["details"]["email"] == "nobody.known@example.com"
    assert WRONG_PASSWORD not in json.dumps(event)


async def test_a_duplicate_sign_up_adds_no_event_and_no_mail(api: Api) -> None:
    first = await sign_up(api, "only_once")
    duplicates = [
        {"email": "only_once@example.com", "username": "someone_else", "password": SIGN_UP_PASSWORD},
        {"email": "fresh.address@example.com", "username": "ONLY_ONCE", "password": SIGN_UP_PASSWORD},
    ]

    for body in duplicates:
        assert_envelope(await api.client.post(USERS, json=body), 409, "ConflictError")

    admin = await api.admin()
    created = await audit_trail(api, action="user.created")
    assert [e["user_id"] for e in created if e["user_id"] != admin.id] == [first["id"]]
    assert len(await pending_to(api, "only_once@example.com")) == 1
    assert await pending_to(api, "fresh.address@example.com") == []
