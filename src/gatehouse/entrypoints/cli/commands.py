"""The commands themselves, each over the container's use cases."""

import argparse
import asyncio
import atexit
import getpass
import logging
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import uvicorn

from gatehouse.application.errors import ServiceUnavailableError
from gatehouse.application.ports.audit import Origin
from gatehouse.application.ports.operations import SchemaState
from gatehouse.application.ports.users import UserFilter, UserPageQuery
from gatehouse.application.use_cases.mfa import ResetMfa
from gatehouse.application.use_cases.read_users import ListUsers
from gatehouse.application.use_cases.register_user import RegisterUser
from gatehouse.application.use_cases.update_user import PatchUser
from gatehouse.domain.user import User
from gatehouse.domain.values import Role
from gatehouse.entrypoints.cli import maintenance_commands, preflight, token_commands
from gatehouse.entrypoints.cli.output import Listing, print_json, utc, warn
from gatehouse.entrypoints.container import Container, close_resources
from gatehouse.entrypoints.logs import configure_logging
from gatehouse.entrypoints.settings import DEFAULT_DATABASE_URL, SERVE_URL, Settings, load_settings, serve_url

# The operator at the console acts as an admin who is no account (so never "self").
OPERATOR = maintenance_commands.OPERATOR
ASGI_FACTORY = "gatehouse.entrypoints.http.asgi:create"


class CommandError(Exception):
    """A command can't run as asked; the message says why in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def cli_settings() -> Settings:
    """The settings, after a warning on stderr for each `GATEHOUSE_*` variable nobody reads."""
    settings = load_settings()
    for message in settings.warnings:
        warn(message)
    return settings


async def require_current_schema(container: Container) -> None:
    schema = container.schema()
    try:
        state = await schema.state()
    except ServiceUnavailableError as exc:
        raise CommandError(f"GATEHOUSE_DATABASE_URL: {exc.message}") from exc
    if state is not SchemaState.CURRENT:
        url = schema.describe()
        if state is SchemaState.NEWER:
            raise CommandError(f"database {url} was migrated by a newer Gatehouse: run that release")
        raise CommandError(f"database {url} is {state.value}: run `gatehouse db upgrade` first")


def fresh_metrics_dir() -> str:
    """An empty folder where every worker writes its metric samples (summed at scrape time);
    removed when the server exits."""
    folder = tempfile.mkdtemp(prefix="gatehouse-metrics-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def serve(host: str, port: int, workers: int) -> int:
    settings = cli_settings()
    settings.require_jwt_secret()
    settings.require_data_key()
    container = Container(settings=settings)
    container.signing_keys()  # GATEHOUSE_JWT_ALGORITHM=EdDSA|ES256: its keys, read and checked now

    async def check() -> None:
        try:
            await require_current_schema(container)
        finally:
            await close_resources(container)

    asyncio.run(check())
    preflight.check_can_listen(host, port)
    # The workers are processes of their own: they learn where we listen (the default of
    # GATEHOUSE_PUBLIC_URL, the base of the links in mails) from their environment.
    os.environ[SERVE_URL] = serve_url(host, port)
    configure_logging(settings.log_level)
    preflight.warn_if_smtp_host_unresolvable(settings.smtp_url)
    if workers > 1 and not settings.redis_url:
        logging.getLogger("gatehouse").warning(
            "rate limits and log-in throttles are counted by each worker alone: set GATEHOUSE_REDIS_URL "
            "to share them",
            extra={"event": "counters_not_shared", "workers": workers},
        )
    if workers > 1:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = fresh_metrics_dir()
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it to the handler it found; make
    # that handler a no-op so a requested stop ends with exit status 0, as the contract says.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    uvicorn.run(
        ASGI_FACTORY,
        factory=True,
        # httptools with a bounded request head: uvicorn's own reads a header of any size
        # whole into memory (a 50 MiB header: 50 MiB per connection); see that module.
        http="gatehouse.entrypoints.http.protocol:BoundedHeadHttpToolsProtocol",
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=int(settings.shutdown_timeout),
    )
    return 0


async def upgrade_schema(container: Container) -> int:
    """Says truthfully what happened: created, migrated, or nothing to do."""
    if container.settings().database_url == DEFAULT_DATABASE_URL:
        # var/ is Gatehouse's own folder (the dev secret and the outbox live there too); a folder
        # the operator named must exist already, so a typo in a path is an error, not a new tree.
        try:
            Path("var").mkdir(exist_ok=True)  # noqa: ASYNC240 - one call before any I/O of its own
        except OSError as exc:
            raise CommandError(f"cannot create the folder var/: {exc.strerror or exc}") from None
    schema = container.schema()
    try:
        done = await schema.upgrade()
    except ServiceUnavailableError as exc:
        raise CommandError(f"GATEHOUSE_DATABASE_URL: {exc.message}") from exc
    shown = schema.describe()
    if done.before is None:
        print(f"created the schema of {shown} at revision {done.after}")
    elif done.changed:
        print(f"migrated {shown} from revision {done.before} to {done.after}")
    else:
        print(f"{shown} is already at the newest revision ({done.after})")
    return 0


async def dispatch(args: argparse.Namespace) -> int:
    container = Container(settings=cli_settings())
    try:
        if (args.command, args.action) == ("db", "upgrade"):
            return await upgrade_schema(container)
        await require_current_schema(container)
        # Audit events of this command carry a request id of their own, and no IP.
        with container.origin().binding(Origin(request_id=f"cli-{os.urandom(8).hex()}")):
            if args.command == "users":
                return await USER_COMMANDS[args.action](container, args)
            if args.command == "tokens":
                return await token_commands.COMMANDS[args.action](container, args)
            return await maintenance_commands.COMMANDS[(args.command, args.action)](container, args)
    finally:
        await close_resources(container)


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email.value,
        "username": user.username.value,
        "full_name": user.full_name.value if user.full_name else None,
        "role": user.role.value,
        "is_active": user.is_active,
        "email_verified": user.email_verified,
        "mfa_enabled": user.mfa_enabled,
        "created_at": utc(user.created_at),
        "updated_at": utc(user.updated_at),
    }


USERS = Listing(
    user_json,
    f"{'ID':>6}  {'USERNAME':<20} {'EMAIL':<32} {'ROLE':<10} ACTIVE",
    lambda u: (
        f"{u.id:>6}  {u.username.value:<20} {u.email.value:<32} {u.role.value:<10} "
        f"{'yes' if u.is_active else 'no'}"
    ),
)


def read_password(args: argparse.Namespace) -> str:
    """`--password`, else one line of stdin (`--password-stdin`), else a prompt at a terminal,
    asked twice; the password then never sits in the shell's history."""
    if args.password is not None:
        return str(args.password)
    if args.password_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if not password:
            raise CommandError("--password-stdin: no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise CommandError(
            "users create: no password: give --password-stdin (or --password), or run at a terminal"
        )
    try:
        password = getpass.getpass("Password: ")
        again = getpass.getpass("Repeat the password: ")
    except EOFError:
        raise CommandError("users create: no password given at the prompt") from None
    if password != again:
        raise CommandError("users create: the two passwords differ")
    return password


async def create_user(container: Container, args: argparse.Namespace) -> int:
    user = await container.register_user().execute(
        RegisterUser.Command(
            email=args.email,
            username=args.username,
            password=read_password(args),
            full_name=args.full_name,
            role=args.role,
            actor=OPERATOR,
        )
    )
    print_json(user_json(user))
    return 0


async def list_users(container: Container, args: argparse.Namespace) -> int:
    users: list[User] = []
    page = 1
    while True:
        query = UserPageQuery(
            filter=UserFilter(role=Role(args.role) if args.role else None), page=page, page_size=100
        )
        result = await container.list_users().execute(ListUsers.Query(actor=OPERATOR, page=query))
        users.extend(result.items)
        if page * 100 >= result.total:
            break
        page += 1
    USERS.print(users, args.json)
    return 0


async def set_role(container: Container, args: argparse.Namespace) -> int:
    user = await container.patch_user().execute(
        PatchUser.Command(actor=OPERATOR, user_id=args.id, role=args.role)
    )
    print_json(user_json(user))
    return 0


async def deactivate(container: Container, args: argparse.Namespace) -> int:
    command = PatchUser.Command(actor=OPERATOR, user_id=args.id, is_active=False)
    user = await container.patch_user().execute(command)
    print_json(user_json(user))
    return 0


async def mfa_reset(container: Container, args: argparse.Namespace) -> int:
    user = await container.reset_mfa().execute(ResetMfa.Command(actor=OPERATOR, user_id=args.id))
    print_json(user_json(user))
    return 0


USER_COMMANDS = {
    "create": create_user,
    "list": list_users,
    "set-role": set_role,
    "deactivate": deactivate,
    "mfa-reset": mfa_reset,
}
