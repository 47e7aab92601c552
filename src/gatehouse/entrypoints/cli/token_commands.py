"""`gatehouse tokens create|list|revoke`: personal API tokens from the console (CONTRACT §13)."""

import argparse
import sys
from typing import Any

from gatehouse.application.ports.api_tokens import ApiToken
from gatehouse.application.use_cases.api_tokens import CreateApiToken, ListApiTokens, RevokeApiToken
from gatehouse.domain.policy import Actor
from gatehouse.domain.scopes import Scope, ordered
from gatehouse.entrypoints.cli.arguments import day_count, token_id
from gatehouse.entrypoints.cli.output import Listing, print_json, table_time, utc
from gatehouse.entrypoints.container import Container

OPERATOR = Actor.operator()


def add_parser(sub: Any) -> None:
    tokens = sub.add_parser("tokens", help="personal API tokens").add_subparsers(dest="action", required=True)
    create = tokens.add_parser("create", help="create an API token; prints it on stdout, this once")
    create.add_argument("--user", type=token_id, required=True, metavar="ID", help="the owner's account id")
    create.add_argument("--name", required=True, help="what the token is for (1-100 characters)")
    create.add_argument(
        "--scope",
        dest="scopes",
        action="append",
        required=True,
        choices=[scope.value for scope in Scope],
        metavar="SCOPE",
        help=f"a scope it carries; repeat for more (one of: {', '.join(Scope)})",
    )
    create.add_argument(
        "--expires-in-days",
        type=day_count,
        metavar="D",
        help="its life, 1 to GATEHOUSE_API_TOKEN_MAX_DAYS (default: 30, or that maximum if shorter)",
    )
    listing = tokens.add_parser("list", help="list the tokens not revoked (never their secrets)")
    listing.add_argument("--user", type=token_id, metavar="ID", help="only this account's (default: all)")
    listing.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    revoke = tokens.add_parser("revoke", help="revoke a token: it stops working at once")
    revoke.add_argument("token_id", type=token_id, metavar="TOKEN_ID", help="the token's id (from list)")


def token_json(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "user_id": token.user_id,
        "name": token.name,
        "scopes": [scope.value for scope in ordered(token.scopes)],
        "created_at": utc(token.created_at),
        "expires_at": utc(token.expires_at),
        "last_used_at": utc(token.last_used_at) if token.last_used_at else None,
    }


TOKENS = Listing(
    token_json,
    f"{'ID':>6} {'USER':>6}  {'NAME':<24} {'EXPIRES':<20} {'LAST USED':<20} SCOPES",
    lambda t: (
        f"{t.id:>6} {t.user_id:>6}  {t.name[:24]:<24} {table_time(t.expires_at):<20} "
        f"{table_time(t.last_used_at) if t.last_used_at else '-':<20} {' '.join(ordered(t.scopes))}"
    ),
)


async def create_token(container: Container, args: argparse.Namespace) -> int:
    created = await container.create_api_token().execute(
        CreateApiToken.Command(
            actor=OPERATOR,
            user_id=args.user,
            name=args.name,
            scopes=args.scopes,
            expires_in_days=args.expires_in_days,
        )
    )
    token = created.token
    # The secret alone on stdout (TOKEN=$(gatehouse tokens create …)); what it is on stderr.
    print(
        f"gatehouse: created API token {token.id} for account {token.user_id}, "
        f"expires {table_time(token.expires_at)}; it is shown this once",
        file=sys.stderr,
    )
    print(created.secret)
    return 0


async def list_tokens(container: Container, args: argparse.Namespace) -> int:
    tokens = await container.list_api_tokens().execute(ListApiTokens.Query(actor=OPERATOR, user_id=args.user))
    TOKENS.print(tokens, args.json)
    return 0


async def revoke_token(container: Container, args: argparse.Namespace) -> int:
    token = await container.revoke_api_token().execute(
        RevokeApiToken.Command(actor=OPERATOR, user_id=None, token_id=args.token_id)
    )
    print_json(token_json(token))
    return 0


COMMANDS = {"create": create_token, "list": list_tokens, "revoke": revoke_token}
