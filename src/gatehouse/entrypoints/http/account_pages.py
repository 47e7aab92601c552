"""The two account pages that mails link to (§10), served with their own assets and a strict CSP.

The server only serves the pages: the token stays in the query string, is read by the page's
script (which then drops it from the address bar) and is sent to the API in a JSON body.
"""

from html import escape
from pathlib import Path
from typing import Annotated

from litestar import Response, get
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter

ASSET_DIR = Path(__file__).with_name("static") / "account"
ASSET_TYPES = {"account.css": "text/css", "account.js": "text/javascript"}
# Read once: the allow-list is fixed, so no request can name any other file.
ASSETS = {name: (ASSET_DIR / name).read_bytes() for name in ASSET_TYPES}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",  # the token is in the page's URL
    "X-Frame-Options": "DENY",
}
PAGE_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
ASSET_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}

VERIFY_FORM = """\
<form id="account-form" data-action="verify-email" data-endpoint="/api/v1/auth/verify-email">
<fieldset>
<legend class="visually-hidden">Confirm your email address</legend>
<p>This confirms that the address this link was sent to belongs to your account.</p>
<button type="submit">Confirm my email address</button>
</fieldset>
</form>"""

RESET_FORM = """\
<form id="account-form" data-action="reset-password" data-endpoint="/api/v1/auth/password-reset/confirm">
<fieldset>
<legend class="visually-hidden">Choose a new password</legend>
<p id="password-hint">Choose a password you don't use anywhere else.
After the change every session of your account is signed out.</p>
<label for="new-password">New password</label>
<input id="new-password" name="new_password" type="password" autocomplete="new-password"
 required minlength="8" maxlength="128" aria-describedby="password-hint">
<label for="repeat-password">Repeat the new password</label>
<input id="repeat-password" name="repeat_password" type="password" autocomplete="new-password"
 required minlength="8" maxlength="128">
<button type="submit">Change my password</button>
</fieldset>
</form>"""


def page(title: str, form: str) -> bytes:
    """One account page: no inline script or style, only the two assets of this module."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{escape(title)} · Gatehouse</title>
<link rel="stylesheet" href="/account/assets/account.css">
<script src="/account/assets/account.js" defer></script>
</head>
<body>
<main>
<h1>{escape(title)}</h1>
{form}
<div id="status" class="status" role="status" aria-live="polite"></div>
<noscript><p class="status" data-kind="error">This page needs JavaScript to send the form.</p></noscript>
</main>
</body>
</html>
""".encode()


VERIFY_PAGE = page("Confirm your email address", VERIFY_FORM)
RESET_PAGE = page("Choose a new password", RESET_FORM)


def html(body: bytes) -> Response[bytes]:
    return Response(body, media_type=MediaType.HTML, headers=PAGE_HEADERS)


@get("/account/verify-email", include_in_schema=False, sync_to_thread=False)
def verify_email_page() -> Response[bytes]:
    """The page a verification mail links to; its script posts the link's token."""
    return html(VERIFY_PAGE)


@get("/account/reset-password", include_in_schema=False, sync_to_thread=False)
def reset_password_page() -> Response[bytes]:
    """The page a reset mail links to; its script posts the token and the new password."""
    return html(RESET_PAGE)


@get("/account/assets/{name:str}", include_in_schema=False, sync_to_thread=False)
def account_asset(
    name: Annotated[str, PathParameter(description="account.css or account.js")],
) -> Response[bytes]:
    """Only the pages' own stylesheet and script; any other name is a 404."""
    if name not in ASSETS:
        raise NotFoundException()
    return Response(ASSETS[name], media_type=ASSET_TYPES[name], headers=ASSET_HEADERS)


ROUTES = [verify_email_page, reset_password_page, account_asset]
