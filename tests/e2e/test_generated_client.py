"""§7: a client generated from /openapi.json by openapi-python-client builds, every one of its
modules imports, and its typed models sign up, log in (JSON and the OAuth2 form), read the account,
and create and read an order (v1, then the v2 list), against the real app in this process (the
generated client takes httpx's ASGI transport). The generator runs offline, as installed."""

import importlib
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import httpx

from tests.e2e.conftest import start, test_settings

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "gatehouse_client"
# No formatter run afterwards: the code as generated is what must import.
CONFIG = "post_hooks: []\n"
BASE_URL = "http://testserver"
PASSWORD = "Generated-Client-7"


def generate(document: bytes, workdir: Path) -> None:
    (workdir / "openapi.json").write_bytes(document)
    (workdir / "config.yaml").write_text(CONFIG)
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(workdir / "openapi.json"),
            "--output-path",
            str(workdir / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(workdir / "config.yaml"),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@contextmanager
def imported(workdir: Path) -> Iterator[dict[str, ModuleType]]:
    """Every module of the generated package, by name; forgotten again afterwards."""
    sys.path.insert(0, str(workdir))
    try:
        package = importlib.import_module(PACKAGE)
        modules = {PACKAGE: package}
        for found in pkgutil.walk_packages(package.__path__, f"{PACKAGE}."):
            modules[found.name] = importlib.import_module(found.name)
        yield modules
    finally:
        sys.path.remove(str(workdir))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


async def test_a_generated_client_imports_and_drives_the_api(tmp_path: Path) -> None:
    container, app = await start(test_settings(tmp_path))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            generate((await http.get("/openapi.json")).content, tmp_path)
        with imported(tmp_path) as modules:
            assert len(modules) > 60
            assert not [name for name in modules if len(name.rsplit(".", 1)[-1]) > 40]

            def api(name: str) -> ModuleType:
                return modules[f"{PACKAGE}.api.{name}"]

            models = modules[f"{PACKAGE}.models"]
            client = modules[PACKAGE]
            options = {"base_url": BASE_URL, "httpx_args": {"transport": transport}}
            email, username = "generated@example.com", "generated_client"

            async with client.Client(**options, raise_on_unexpected_status=True) as anonymous:
                body = models.SignUpIn(email=email, username=username, password=PASSWORD)
                created = await api("users.create_user").asyncio_detailed(client=anonymous, body=body)
                assert created.status_code == 201, created.content
                assert isinstance(created.parsed, models.UserOut)
                assert created.headers["location"] == f"/api/v1/users/{created.parsed.id}"

                log_in = api("auth.log_in")
                tokens = await log_in.asyncio(
                    client=anonymous, body=models.LoginIn(email=email, password=PASSWORD)
                )
                assert isinstance(tokens, models.TokenOut), tokens
                form = models.LoginForm(username=username, password=PASSWORD, grant_type="password")
                assert isinstance(await log_in.asyncio(client=anonymous, body=form), models.TokenOut)

            async with client.AuthenticatedClient(**options, token=tokens.access_token) as signed_in:
                me = await api("users.read_me").asyncio(client=signed_in)
                assert isinstance(me, models.UserOut), me
                assert (me.id, me.email, me.username) == (created.parsed.id, email, username)

                item = models.ItemIn(sku="BOOK-1", quantity=2, unit_price_cents=1250)
                placed = await api("orders.create_order").asyncio_detailed(
                    user_id=me.id,
                    client=signed_in,
                    body=models.OrderIn(currency="EUR", items=[item]),
                    idempotency_key="first-order",
                )
                assert placed.status_code == 201, placed.content
                order = placed.parsed
                assert isinstance(order, models.OrderOut)
                assert order.total_cents == 2500

                read = await api("orders.read_order").asyncio(
                    user_id=me.id, order_id=order.id, client=signed_in
                )
                assert isinstance(read, models.OrderOut), read
                assert (read.id, read.status, read.total_cents) == (order.id, order.status, 2500)
                assert read.items[0].sku == "BOOK-1"

                page = await api("orders.v_2_list_orders").asyncio(user_id=me.id, client=signed_in)
                assert isinstance(page, models.OrderCursorPageOut), page
                assert [listed.id for listed in page.items] == [order.id]
    finally:
        await container.database().dispose()
        container.hasher().close()
