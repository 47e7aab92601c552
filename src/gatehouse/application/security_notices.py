"""Security notices: a mail to the account's address after a change it should know of.

A notice says what happened and when; it holds no link that acts and no secret, so a mail read
by someone else gives them nothing. It is queued in the change's own unit of work.
"""

from datetime import datetime
from enum import StrEnum

from gatehouse.application.ports.mail import MailMessage
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.domain.user import User


class Notice(StrEnum):
    """The subject of each notice, exactly as clients and filters see it."""

    PASSWORD_CHANGED = "Security notice: password changed"  # noqa: S105 - a subject line
    EMAIL_CHANGED = "Security notice: email address changed"
    MFA_ENABLED = "Security notice: two-factor authentication turned on"
    MFA_DISABLED = "Security notice: two-factor authentication turned off"
    RECOVERY_CODE_USED = "Security notice: recovery code used"
    API_TOKEN_CREATED = "Security notice: API token created"  # noqa: S105
    LOGINS_THROTTLED = "Security notice: log-ins throttled"


WHAT = {
    Notice.PASSWORD_CHANGED: "the password of your account was changed",
    Notice.EMAIL_CHANGED: "the email address of your account was changed; this address no longer receives "
    "its mail",
    Notice.MFA_ENABLED: "two-factor authentication was turned on for your account",
    Notice.MFA_DISABLED: "two-factor authentication was turned off for your account",
    Notice.RECOVERY_CODE_USED: "one of your recovery codes was used to log in",
    Notice.API_TOKEN_CREATED: "an API token was created for your account",
    Notice.LOGINS_THROTTLED: "log-ins to your account were refused for a while after too many failed "
    "attempts",
}

TEXT = """Hello {username},

{what} ({when} UTC).

If this was you, there is nothing to do. If it was not, reset your password at once and tell your
administrator. This mail holds no link: open the service the way you always do.
"""


async def send_notice(uow: UnitOfWork, notice: Notice, user: User, *, at: datetime, detail: str = "") -> None:
    """Queue `notice` for `user`'s address (as `user` holds it); `detail` (a name, never a secret)
    is added to what happened."""
    what = WHAT[notice] + (f": {detail}" if detail else "")
    text = TEXT.format(
        username=user.username.value, what=what[:1].upper() + what[1:], when=f"{at:%Y-%m-%d %H:%M}"
    )
    await uow.outbox.add(MailMessage(recipient=user.email.value, subject=notice.value, body=text), now=at)
