"""`gatehouse …`: parse the command line, run one command, turn user errors into one line."""

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from importlib.metadata import version
from typing import NoReturn

from gatehouse.application.errors import ApplicationError
from gatehouse.domain.errors import DomainError, InvalidValueError
from gatehouse.entrypoints.cli import commands, key_commands, maintenance_commands, preflight, token_commands
from gatehouse.entrypoints.cli.arguments import account_id, port_number, worker_count
from gatehouse.entrypoints.settings import SettingsError

ROLES = ("admin", "moderator", "user")


class OneLineParser(argparse.ArgumentParser):
    """A usage error is one line on stderr naming the command (`--help` shows the usage), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def parser() -> argparse.ArgumentParser:
    root = OneLineParser(prog="gatehouse", description="Gatehouse user-management service")
    root.add_argument("--version", action="version", version=f"%(prog)s {version('gatehouse')}")
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on; 0.0.0.0 for every interface (default: %(default)s)",
    )
    serve.add_argument(
        "--port", type=port_number, default=8000, help="TCP port to listen on, 1-65535 (default: %(default)s)"
    )
    serve.add_argument(
        "--workers",
        type=worker_count,
        default=1,
        help="worker processes sharing the port (default: %(default)s)",
    )

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="create or migrate the schema to the newest revision")
    db.add_parser(
        "prune",
        help="delete now the rows housekeeping deletes on its own (ended sessions and their refresh "
        "tokens, spent or expired one-time tokens, idempotency records past 24 hours, sent or dropped "
        "mail); prints the counts as JSON",
    )

    users = sub.add_parser("users", help="manage accounts").add_subparsers(dest="action", required=True)
    create = users.add_parser(
        "create",
        help="create an account (prints it as JSON)",
        description="Create an account, verified from the start, and print it as JSON. Without "
        "--password or --password-stdin the password is asked for at the terminal.",
    )
    create.add_argument("--email", required=True, help="the account's email address (required)")
    create.add_argument("--username", required=True, help="3-50 letters, digits or _ (required)")
    secret = create.add_mutually_exclusive_group()
    secret.add_argument(
        "--password", help="the password (it stays in the shell's history; default: a prompt)"
    )
    secret.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    create.add_argument("--full-name", help="the account holder's name (default: none)")
    create.add_argument(
        "--role", choices=ROLES, default="user", help="the account's role (default: %(default)s)"
    )
    listing = users.add_parser("list", help="list accounts")
    listing.add_argument("--role", choices=ROLES, help="only accounts with this role (default: every role)")
    listing.add_argument(
        "--json", action="store_true", help="one JSON array instead of a table (default: a table)"
    )
    set_role = users.add_parser("set-role", help="change an account's role")
    set_role.add_argument("id", type=account_id, help="the account's id")
    set_role.add_argument("role", choices=ROLES, help="the new role")
    deactivate = users.add_parser("deactivate", help="deactivate an account")
    deactivate.add_argument("id", type=account_id, help="the account's id")
    mfa_reset = users.add_parser("mfa-reset", help="turn an account's two-factor authentication off")
    mfa_reset.add_argument("id", type=account_id, help="the account's id")

    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(dest="action", required=True)
    audit_list = audit.add_parser("list", help="list audit events, newest first")
    # Not `dest="action"`: that names the subcommand itself.
    audit_list.add_argument(
        "--action",
        dest="only_action",
        metavar="ACTION",
        help="only this action, e.g. auth.login_failed (default: every action)",
    )
    audit_list.add_argument(
        "--user",
        type=account_id,
        metavar="ID",
        help="only events about this account id (default: every account)",
    )
    audit_list.add_argument(
        "--since", help="only events at or after this ISO 8601 time, UTC if no offset (default: all time)"
    )
    audit_list.add_argument(
        "--json", action="store_true", help="one JSON array instead of a table (default: a table)"
    )
    audit.add_parser("prune", help="delete events older than GATEHOUSE_AUDIT_RETENTION_DAYS")

    mail = sub.add_parser("mail", help="the mail outbox").add_subparsers(dest="action", required=True)
    mail.add_parser("deliver", help="deliver what waits in the outbox now, then exit")
    key_commands.add_parser(sub)
    token_commands.add_parser(sub)
    return root


def describe(exc: BaseException) -> str:
    """One line a person can act on; never a traceback."""
    if isinstance(exc, InvalidValueError):
        return f"{exc.field}: {exc.message}"
    if isinstance(exc, DomainError | ApplicationError):
        return exc.message
    return str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "serve":
            return commands.serve(args.host, args.port, args.workers)
        if args.command == "keys":
            return key_commands.generate(args)
        return asyncio.run(commands.dispatch(args))
    except (
        DomainError,
        ApplicationError,
        SettingsError,
        commands.CommandError,
        maintenance_commands.BadOptionError,
        preflight.PreflightError,
    ) as exc:
        print(f"gatehouse: error: {describe(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`gatehouse audit list | head -1`): no traceback, and none at exit
        # when Python flushes stdout into the closed pipe either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command cut off by its pipe


if __name__ == "__main__":
    sys.exit(main())
