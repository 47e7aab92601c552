"""The composition root: with `builders.py`, the one place that names concrete adapters."""

from collections.abc import Callable

from dependency_injector import containers, providers

from gatehouse.adapters.clock import SystemClock
from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.origin import ContextOrigin
from gatehouse.adapters.random_tokens import RandomSecretTokens
from gatehouse.adapters.signing_keys import PemKeyGenerator
from gatehouse.adapters.sqlalchemy.audit_trail import SqlAlchemyAuditQueries
from gatehouse.adapters.sqlalchemy.database import DatabaseOptions
from gatehouse.adapters.sqlalchemy.housekeeping import SqlAlchemyHousekeeping, SqlAlchemyTaskLease
from gatehouse.adapters.sqlalchemy.mail_outbox import SqlAlchemyMailQueue
from gatehouse.adapters.sqlalchemy.migrate import AlembicSchema
from gatehouse.adapters.sqlalchemy.order_queries import SqlAlchemyOrderQueries
from gatehouse.adapters.sqlalchemy.queries import SqlAlchemySessionQueries
from gatehouse.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from gatehouse.adapters.totp import PyotpCodes
from gatehouse.application.account_mail import AccountLinks, AccountMailer
from gatehouse.application.idempotency import IdempotentCreation
from gatehouse.application.second_factor import SecondFactor
from gatehouse.application.use_cases.api_tokens import CreateApiToken, ListApiTokens, RevokeApiToken
from gatehouse.application.use_cases.audit_trail import BrowseAuditEvents, PruneAuditEvents
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.application.use_cases.change_password import ChangePassword
from gatehouse.application.use_cases.delete_user import DeleteUser
from gatehouse.application.use_cases.deliver_mail import DeliverPendingMail
from gatehouse.application.use_cases.email_verification import (
    ResendVerification,
    ResendVerificationByEmail,
    VerifyEmail,
)
from gatehouse.application.use_cases.housekeeping import PruneExpiredRows, RunHousekeeping
from gatehouse.application.use_cases.idempotency import ClaimIdempotencyKey, ReleaseIdempotencyKey
from gatehouse.application.use_cases.introspection import IntrospectToken
from gatehouse.application.use_cases.login import Login
from gatehouse.application.use_cases.mfa import (
    ConfirmTotpEnrolment,
    DisableMfa,
    MfaSettings,
    RenewRecoveryCodes,
    ResetMfa,
    StartTotpEnrolment,
)
from gatehouse.application.use_cases.mfa_login import CompleteMfaLogin
from gatehouse.application.use_cases.my_sessions import ListMySessions, RevokeAllSessions, RevokeMySession
from gatehouse.application.use_cases.orders import (
    BrowseOrders,
    ChangeOrderStatus,
    CreateOrder,
    DeleteOrder,
    GetOrder,
    ListOrders,
)
from gatehouse.application.use_cases.password_reset import ConfirmPasswordReset, RequestPasswordReset
from gatehouse.application.use_cases.rate_limit import CheckRateLimit
from gatehouse.application.use_cases.read_users import BrowseUsers, GetUser, ListUsers
from gatehouse.application.use_cases.readiness import CheckReadiness
from gatehouse.application.use_cases.register_user import RegisterUser
from gatehouse.application.use_cases.sessions import Logout, RefreshSession
from gatehouse.application.use_cases.update_user import PatchUser, ReplaceUser
from gatehouse.entrypoints.builders import (
    Resources,
    mail_transport_for,
    open_database,
    open_hasher,
    open_secret_box,
    password_policy,
    published_keys_for,
    redis_for_readiness,
    shared_counters_for,
    throttle_counters_for,
    token_issuer,
    user_queries_for,
    worker_name,
)
from gatehouse.entrypoints.key_settings import require_signing_keys
from gatehouse.entrypoints.settings import Settings


class Container(containers.DeclarativeContainer):
    """Singletons for shared machinery; a fresh unit of work and use case per call."""

    settings = providers.Dependency(instance_of=Settings)

    resources = providers.Singleton(Resources)
    clock = providers.Singleton(SystemClock)
    database = providers.Singleton(
        open_database,
        resources=resources,
        url=settings.provided.database_url,
        options=providers.Factory(
            DatabaseOptions,
            pool_size=settings.provided.db_pool_size,
            slow_query_ms=settings.provided.slow_query_ms,
        ),
    )
    hash_depth_observer: providers.Object[Callable[[int], None] | None] = providers.Object(None)
    hasher = providers.Singleton(
        open_hasher,
        resources=resources,
        workers=settings.provided.hash_workers,
        max_queue=settings.provided.hash_queue,
        niceness=settings.provided.hash_niceness,
        observe_depth=hash_depth_observer,
    )
    signing_keys = providers.Singleton(require_signing_keys, settings=settings)
    tokens = providers.Singleton(token_issuer, settings=settings, key_ring=signing_keys)
    published_keys = providers.Singleton(published_keys_for, key_ring=signing_keys)
    key_generator = providers.Singleton(PemKeyGenerator)
    local_counters = providers.Singleton(InProcessCounters, clock=clock)
    shared_counters = providers.Singleton(
        shared_counters_for, resources=resources, url=settings.provided.redis_url, local=local_counters
    )
    counters = providers.Singleton(throttle_counters_for, shared=shared_counters, local=local_counters)
    policy = providers.Singleton(password_policy, name=settings.provided.password_policy)

    origin = providers.Singleton(ContextOrigin)
    uow = providers.Factory(SqlAlchemyUnitOfWork, database=database, origin=origin)
    user_queries = providers.Singleton(user_queries_for, database=database)
    secret_tokens = providers.Singleton(RandomSecretTokens)
    links = providers.Singleton(AccountLinks, public_url=settings.provided.public_url)
    mailer = providers.Singleton(AccountMailer, tokens=secret_tokens, links=links)

    register_user = providers.Factory(
        RegisterUser, uow=uow, hasher=hasher, policy=policy, clock=clock, mailer=mailer
    )
    get_user = providers.Factory(GetUser, queries=user_queries)
    list_users = providers.Factory(ListUsers, queries=user_queries)
    replace_user = providers.Factory(ReplaceUser, uow=uow, clock=clock, mailer=mailer)
    patch_user = providers.Factory(PatchUser, uow=uow, clock=clock, mailer=mailer)
    delete_user = providers.Factory(DeleteUser, uow=uow, clock=clock)
    change_password = providers.Factory(
        ChangePassword,
        uow=uow,
        queries=user_queries,
        hasher=hasher,
        policy=policy,
        clock=clock,
        counters=counters,
        max_failures=settings.provided.login_max_failures,
    )
    login = providers.Factory(
        Login,
        uow=uow,
        queries=user_queries,
        hasher=hasher,
        tokens=tokens,
        counters=counters,
        clock=clock,
        max_failures=settings.provided.login_max_failures,
        secret_tokens=secret_tokens,
        require_verified_email=settings.provided.require_verified_email,
    )
    refresh = providers.Factory(RefreshSession, uow=uow, tokens=tokens, clock=clock)
    logout = providers.Factory(Logout, uow=uow, tokens=tokens, clock=clock)
    # The user read side also finds the account behind an API token (one indexed look-up).
    authenticate = providers.Singleton(
        Authenticate, tokens=tokens, queries=user_queries, api_tokens=user_queries, clock=clock
    )
    create_api_token = providers.Factory(
        CreateApiToken, uow=uow, clock=clock, max_days=settings.provided.api_token_max_days
    )
    list_api_tokens = providers.Factory(ListApiTokens, uow=uow)
    revoke_api_token = providers.Factory(RevokeApiToken, uow=uow, clock=clock)
    introspect_token = providers.Factory(
        IntrospectToken, authenticate=authenticate, tokens=tokens, queries=user_queries, clock=clock
    )
    browse_users = providers.Factory(BrowseUsers, queries=user_queries)
    rate_limit = providers.Singleton(
        CheckRateLimit,
        counters=shared_counters,
        clock=clock,
        per_minute=settings.provided.rate_limit_per_minute,
    )

    order_queries = providers.Singleton(SqlAlchemyOrderQueries, database=database)
    create_order = providers.Factory(CreateOrder, uow=uow, users=user_queries, clock=clock)
    get_order = providers.Factory(GetOrder, users=user_queries, orders=order_queries)
    list_orders = providers.Factory(ListOrders, users=user_queries, orders=order_queries)
    browse_orders = providers.Factory(BrowseOrders, users=user_queries, orders=order_queries)
    change_order_status = providers.Factory(ChangeOrderStatus, uow=uow, users=user_queries, clock=clock)
    delete_order = providers.Factory(DeleteOrder, uow=uow, users=user_queries, clock=clock)
    claim_idempotency = providers.Factory(ClaimIdempotencyKey, uow=uow, clock=clock)
    release_idempotency = providers.Factory(ReleaseIdempotencyKey, uow=uow)
    idempotency = providers.Factory(IdempotentCreation, claim=claim_idempotency, release=release_idempotency)

    verify_email = providers.Factory(VerifyEmail, uow=uow, tokens=secret_tokens, clock=clock)
    resend_verification = providers.Factory(
        ResendVerification, uow=uow, queries=user_queries, counters=counters, clock=clock, mailer=mailer
    )
    resend_verification_by_email = providers.Factory(
        ResendVerificationByEmail, uow=uow, counters=counters, clock=clock, mailer=mailer
    )
    request_password_reset = providers.Factory(
        RequestPasswordReset, uow=uow, counters=counters, clock=clock, mailer=mailer
    )
    confirm_password_reset = providers.Factory(
        ConfirmPasswordReset, uow=uow, tokens=secret_tokens, hasher=hasher, policy=policy, clock=clock
    )
    session_queries = providers.Singleton(SqlAlchemySessionQueries, database=database)
    list_my_sessions = providers.Factory(ListMySessions, queries=session_queries, clock=clock)
    revoke_my_session = providers.Factory(RevokeMySession, uow=uow, clock=clock)
    revoke_all_sessions = providers.Factory(RevokeAllSessions, uow=uow, clock=clock)

    audit_queries = providers.Singleton(SqlAlchemyAuditQueries, database=database)
    browse_audit_events = providers.Factory(BrowseAuditEvents, queries=audit_queries)
    prune_audit_events = providers.Factory(
        PruneAuditEvents,
        queries=audit_queries,
        clock=clock,
        retention_days=settings.provided.audit_retention_days,
    )
    mail_queue = providers.Singleton(SqlAlchemyMailQueue, database=database)
    mail_transport = providers.Singleton(mail_transport_for, settings=settings)
    deliver_mail = providers.Factory(
        DeliverPendingMail, queue=mail_queue, transport=mail_transport, clock=clock
    )

    one_time_codes = providers.Singleton(PyotpCodes)
    secret_box = providers.Singleton(open_secret_box, settings=settings)
    second_factor = providers.Singleton(SecondFactor, codes=one_time_codes, box=secret_box)
    mfa_settings = providers.Factory(
        MfaSettings,
        uow=uow,
        factor=second_factor,
        hasher=hasher,
        clock=clock,
        counters=counters,
        max_failures=settings.provided.login_max_failures,
    )
    start_totp_enrolment = providers.Factory(StartTotpEnrolment, mfa=mfa_settings)
    confirm_totp_enrolment = providers.Factory(ConfirmTotpEnrolment, mfa=mfa_settings)
    renew_recovery_codes = providers.Factory(RenewRecoveryCodes, mfa=mfa_settings)
    disable_mfa = providers.Factory(DisableMfa, mfa=mfa_settings)
    reset_mfa = providers.Factory(ResetMfa, uow=uow, clock=clock)
    complete_mfa_login = providers.Factory(
        CompleteMfaLogin,
        uow=uow,
        queries=user_queries,
        factor=second_factor,
        secret_tokens=secret_tokens,
        tokens=tokens,
        counters=counters,
        clock=clock,
        max_failures=settings.provided.login_max_failures,
    )

    schema = providers.Singleton(AlembicSchema, database=database)
    check_readiness = providers.Factory(
        CheckReadiness,
        database=database,
        redis=providers.Singleton(redis_for_readiness, shared=shared_counters),
    )

    housekeeping = providers.Singleton(SqlAlchemyHousekeeping, database=database)
    task_lease = providers.Singleton(SqlAlchemyTaskLease, database=database)
    lease_holder = providers.Singleton(worker_name)
    prune_expired_rows = providers.Factory(PruneExpiredRows, housekeeping=housekeeping, clock=clock)
    run_housekeeping = providers.Factory(
        RunHousekeeping,
        lease=task_lease,
        prune=prune_expired_rows,
        clock=clock,
        holder=lease_holder,
        interval_s=settings.provided.housekeeping_seconds,
    )


async def close_resources(container: Container) -> None:
    """Every driver ends with this: the database's pools, the hashing threads and the Redis
    connections that were opened are closed (nothing that was never built is opened to close it)."""
    await container.resources().close()
