"""Races through the real stack (CONTRACT §3): uniqueness and `If-Match` hold under concurrent requests."""

import asyncio

import httpx
import pytest

from tests.e2e.conftest import Api, assert_envelope

USERS = "/api/v1/users"


def case_variant(text: str, n: int) -> str:
    """`text` with the letters at positions where bit i of n is set upper-cased: distinct spellings."""
    return "".join(c.upper() if (n >> (i % 8)) & 1 else c for i, c in enumerate(text))


def sign_up_bodies(shared: str, count: int) -> list[dict[str, str]]:
    """`count` sign-ups that differ in everything but `shared` (sent in different letter cases)."""
    bodies = []
    for n in range(count):
        body = {"email": f"racer{n}@example.com", "username": f"racer_{n}", "password": "Secret123"}
        body[shared] = case_variant("same@example.com" if shared == "email" else "same_name", n)
        bodies.append(body)
    return bodies


def statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


@pytest.mark.parametrize("count", [2, 10])
@pytest.mark.parametrize("shared", ["email", "username"])
async def test_concurrent_sign_ups_sharing_an_email_or_username_create_exactly_one_account(
    api: Api, count: int, shared: str
) -> None:
    responses = await asyncio.gather(*(api.client.post(USERS, json=b) for b in sign_up_bodies(shared, count)))

    assert statuses(responses) == [201] + [409] * (count - 1), [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_envelope(response, 409, "ConflictError")
    admin = await api.admin()
    listed = await api.client.get(USERS, params={"search": "same", "page_size": 100}, headers=admin.auth)
    assert listed.json()["total"] == 1
    winner = next(r.json() for r in responses if r.status_code == 201)
    assert [item["id"] for item in listed.json()["items"]] == [winner["id"]]


@pytest.mark.parametrize("count", [2, 10])
async def test_concurrent_patches_with_one_if_match_let_exactly_one_through(api: Api, count: int) -> None:
    admin = await api.admin()
    subject = await api.create_account("user")
    url = f"{USERS}/{subject.id}"
    tag = (await api.client.get(url, headers=admin.auth)).headers["etag"]
    headers = {**admin.auth, "If-Match": tag}

    responses = await asyncio.gather(
        *(api.client.patch(url, json={"full_name": f"Writer {n}"}, headers=headers) for n in range(count))
    )

    assert statuses(responses) == [200] + [412] * (count - 1), [r.text for r in responses]
    for response in responses:
        if response.status_code == 412:
            assert_envelope(response, 412, "PreconditionFailedError")
    winner = next(r for r in responses if r.status_code == 200)
    final = await api.client.get(url, headers=admin.auth)
    assert final.json()["full_name"] == winner.json()["full_name"]
    assert final.headers["etag"] == winner.headers["etag"] != tag


@pytest.mark.parametrize("count", [2, 10])
async def test_concurrent_patches_by_the_account_itself_with_one_if_match_let_exactly_one_through(
    api: Api, count: int
) -> None:
    me = await api.create_account("user")
    url = f"{USERS}/{me.id}"
    tag = (await api.client.get(url, headers=me.auth)).headers["etag"]
    headers = {**me.auth, "If-Match": tag}

    responses = await asyncio.gather(
        *(api.client.patch(url, json={"username": f"renamed_{n}"}, headers=headers) for n in range(count))
    )

    assert statuses(responses) == [200] + [412] * (count - 1), [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200)
    final = await api.client.get(url, headers=me.auth)
    assert final.json()["username"] == winner.json()["username"]


async def test_concurrent_patches_of_different_fields_without_if_match_both_stay(api: Api) -> None:
    """No `If-Match`: each PATCH writes only the fields it sent, so a change of the name by the
    account and a change of its role by an admin, at once, both survive (on PostgreSQL a
    whole-row write made from a stale read would undo one of them)."""
    admin = await api.admin()
    for round_ in range(6):
        subject = await api.create_account("user")
        url = f"{USERS}/{subject.id}"
        role = "moderator" if round_ % 2 else "admin"
        answers = await asyncio.gather(
            api.client.patch(url, json={"full_name": f"Renamed {round_}"}, headers=subject.auth),
            api.client.patch(url, json={"role": role}, headers=admin.auth),
            api.client.patch(url, json={"username": f"renamed_{round_}"}, headers=admin.auth),
        )
        assert statuses(list(answers)) == [200, 200, 200], [a.text for a in answers]
        final = (await api.client.get(url, headers=admin.auth)).json()
        assert (final["full_name"], final["role"], final["username"]) == (
            f"Renamed {round_}",
            role,
            f"renamed_{round_}",
        )
