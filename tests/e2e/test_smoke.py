"""The README walk-through, end to end: sign up, log in, read me, refresh, log out."""

from tests.e2e.conftest import Api


async def test_sign_up_log_in_read_me_refresh_and_log_out(api: Api) -> None:
    signup = await api.client.post(
        "/api/v1/users",
        json={"email": "Ada@Example.com", "username": "ada_l", "password": "Secret123", "full_name": "Ada"},
    )
    assert signup.status_code == 201
    user = signup.json()
    assert signup.headers["location"] == f"/api/v1/users/{user['id']}"
    assert user["email"] == "ada@example.com"
    assert "password" not in signup.text
    assert "hash" not in signup.text

    login = await api.client.post(
        "/api/v1/auth/token", json={"email": "ADA@example.com", "password": "Secret123"}
    )
    assert login.status_code == 200
    assert login.headers["cache-control"] == "no-store"
    tokens = login.json()
    assert tokens["token_type"] == "bearer"
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}

    me = await api.client.get("/api/v1/users/me", headers=auth)
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]
    assert me.headers["cache-control"] == "private, no-cache"

    refreshed = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    new_auth = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}

    assert (await api.client.post("/api/v1/auth/logout", headers=new_auth)).status_code == 204
    after = await api.client.get("/api/v1/users/me", headers=new_auth)
    assert after.status_code == 401
    assert after.headers["www-authenticate"] == "Bearer"
