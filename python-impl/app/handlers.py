"""The example API behind the generated interface: its operations and its bearer authentication.

The runtime has authenticated and validated every request before it gets here. Responses are built with
`model_construct` from data that is valid by construction (the store's rows, the validated input): the
routing layer serialises them once and nothing validates them again.
"""

import re
import time
from collections.abc import Callable
from uuid import UUID

from twinapi_runtime import AuthenticationFailed, Context
from twinapi_runtime.problems import INVALID_REQUEST, TITLES

from app.core.security import InvalidToken, Passwords, Tokens
from app.generated import models
from app.generated.operations import (
    CreateTask201,
    CreateTaskResponse,
    DeleteTask204,
    DeleteTask404,
    DeleteTask412,
    DeleteTaskResponse,
    GetCurrentUser200,
    GetCurrentUserResponse,
    GetHealth200,
    GetHealthResponse,
    GetTask200,
    GetTask404,
    GetTaskResponse,
    ListTasks200,
    ListTasks400,
    ListTasksResponse,
    LoginUser200,
    LoginUser401,
    LoginUser429,
    LoginUserResponse,
    Operations,
    RegisterUser201,
    RegisterUser409,
    RegisterUserResponse,
    SecurityHandlers,
    UpdateTask200,
    UpdateTask404,
    UpdateTask412,
    UpdateTaskResponse,
)
from app.store.cursor import decode_cursor, encode_cursor
from app.store.logins import LoginFailures
from app.store.tasks import Refused, TaskRecord, Tasks
from app.store.users import Account, Users, email_key

NO_TASK = "No task with this id."
CHANGED = "The task has changed since it was read."
EMAIL_TAKEN = "This email is already registered."
WRONG_CREDENTIALS = "The email or password is wrong."
THROTTLED = "Too many failed logins; try again later."
NOT_A_CURSOR = "is not a cursor this server issued"

# One element of an If-Match list (RFC 9110 entity-tag), up to and including its comma.
_ETAG_ITEM = re.compile(r'[ \t]*(?:(W/)?"([^"\x00-\x20\x7f]*)")?[ \t]*(?:,|\Z)')
_VERSION = re.compile(r"[1-9][0-9]{0,17}")  # our ETags' versions; longer ones cannot exist


def etag(version: int) -> str:
    return f'"{version}"'


def expected_versions(if_match: str | None) -> frozenset[int] | None:
    """The versions an If-Match header accepts: None for any (absent or `*`), else a set (maybe empty).

    Weak tags never match (strong comparison); a header that does not parse as a list of entity tags
    matches nothing.
    """
    if if_match is None or if_match.strip(" \t") == "*":
        return None
    versions: set[int] = set()
    pos = 0
    while pos < len(if_match):
        item = _ETAG_ITEM.match(if_match, pos)
        if item is None or item.end() == pos:
            return frozenset()
        pos = item.end()
        if item[2] is not None and item[1] is None and _VERSION.fullmatch(item[2]):
            versions.add(int(item[2]))
    return frozenset(versions)


def _problem(ctx: Context, status: int, detail: str) -> models.Problem:
    return models.Problem.model_construct(
        type="about:blank", title=TITLES[status], status=status, detail=detail, instance=ctx.path
    )


def _user(account: Account) -> models.User:
    return models.User.model_construct(
        id=UUID(account.id), email=account.email, display_name=account.display_name, created_at=account.created_at
    )


def _task(record: TaskRecord) -> models.Task:
    return models.Task.model_construct(
        id=UUID(record.id),
        title=record.title,
        notes=record.notes,
        due_date=record.due_date,
        priority=models.TaskPriority(record.priority),
        status=models.TaskStatus(record.status),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


class TaskService(Operations[Account]):
    def __init__(
        self,
        users: Users,
        tasks: Tasks,
        passwords: Passwords,
        tokens: Tokens,
        logins: LoginFailures,
        forget_account: Callable[[str], None] = lambda _: None,
    ) -> None:
        self._logins = logins
        self._forget_account = forget_account  # drops an account from the authentication cache
        self._users = users
        self._tasks = tasks
        self._passwords = passwords
        self._tokens = tokens

    async def get_health(self, ctx: Context) -> GetHealthResponse:
        return GetHealth200(
            models.Health.model_construct(
                status="ok",
                implementation=models.Implementation.python,
                version=ctx.request.app.openapi()["info"]["version"],
            )
        )

    async def register_user(self, ctx: Context, body: models.NewUser) -> RegisterUserResponse:
        password_hash = await self._passwords.hash(body.password)
        account = await self._users.create(body.email, body.display_name, password_hash)
        if account is None:
            return RegisterUser409(_problem(ctx, 409, EMAIL_TAKEN))
        return RegisterUser201(_user(account), location="/users/me")

    async def login_user(self, ctx: Context, body: models.LoginRequest) -> LoginUserResponse:
        key, address = email_key(body.email), ctx.request.client.host if ctx.request.client else ""
        # Checked before any password: while an account or an address is throttled, not even the right one logs in.
        wait = await self._logins.retry_after(key, address)
        if wait is not None:
            return LoginUser429(_problem(ctx, 429, THROTTLED), retry_after=str(wait))
        found = await self._users.credentials(body.email)
        # verify() spends one bcrypt verify even for an unknown email: timing does not tell which emails exist.
        valid = await self._passwords.verify(body.password, found[1] if found is not None else None)
        if found is None or not valid:
            await self._logins.failed(key, address)  # an unknown email counts too, so 429 tells nothing either
            return LoginUser401(_problem(ctx, 401, WRONG_CREDENTIALS), www_authenticate="Bearer")
        account = found[0]
        await self._logins.succeeded(key)
        login = models.Login.model_construct(
            access_token=self._tokens.issue(account.id),
            token_type="Bearer",
            expires_in=self._tokens.ttl_seconds,
            user=_user(account),
        )
        return LoginUser200(login)

    async def get_current_user(self, ctx: Context, principal: Account) -> GetCurrentUserResponse:
        return GetCurrentUser200(_user(principal))

    async def list_tasks(self, ctx: Context, principal: Account, params: models.ListTasksParams) -> ListTasksResponse:
        after = None
        if params.cursor is not None:
            after = decode_cursor(params.cursor)
            if after is None:
                error = models.FieldError.model_construct(location="query/cursor", message=NOT_A_CURSOR)
                problem = models.ValidationProblem.model_construct(
                    type="about:blank",
                    title=TITLES[400],
                    status=400,
                    detail=INVALID_REQUEST,
                    instance=ctx.path,
                    errors=[error],
                )
                return ListTasks400(problem)
        records, last = await self._tasks.page(principal.id, params.limit, after, params.status, params.q)
        page = models.TaskPage.model_construct(
            items=[_task(record) for record in records], next_cursor=None if last is None else encode_cursor(last)
        )
        return ListTasks200(page)

    async def create_task(self, ctx: Context, principal: Account, body: models.NewTask) -> CreateTaskResponse:
        record = await self._tasks.create(principal.id, body.title, body.notes, body.due_date, body.priority)
        if record is None:  # the account was deleted after its token was checked: the token is no longer valid
            self._forget_account(principal.id)
            raise AuthenticationFailed()
        return CreateTask201(_task(record), location=f"/tasks/{record.id}", e_tag=etag(record.version))

    async def get_task(self, ctx: Context, principal: Account, params: models.GetTaskParams) -> GetTaskResponse:
        record = await self._tasks.get(principal.id, str(params.task_id))  # str(UUID) is lowercase
        if record is None:
            return GetTask404(_problem(ctx, 404, NO_TASK))
        return GetTask200(_task(record), e_tag=etag(record.version))

    async def delete_task(
        self, ctx: Context, principal: Account, params: models.DeleteTaskParams
    ) -> DeleteTaskResponse:
        refused = await self._tasks.delete(principal.id, str(params.task_id), expected_versions(params.if_match))
        if refused is Refused.NOT_FOUND:
            return DeleteTask404(_problem(ctx, 404, NO_TASK))
        if refused is Refused.CHANGED:
            return DeleteTask412(_problem(ctx, 412, CHANGED))
        return DeleteTask204()

    async def update_task(
        self, ctx: Context, principal: Account, params: models.UpdateTaskParams, body: models.TaskPatch
    ) -> UpdateTaskResponse:
        # Only the fields the request names change; an explicit null clears notes or dueDate.
        changes = {field: getattr(body, field) for field in body.model_fields_set}
        result = await self._tasks.update(
            principal.id, str(params.task_id), changes, expected_versions(params.if_match)
        )
        if result is Refused.NOT_FOUND:
            return UpdateTask404(_problem(ctx, 404, NO_TASK))
        if result is Refused.CHANGED:
            return UpdateTask412(_problem(ctx, 412, CHANGED))
        return UpdateTask200(_task(result), e_tag=etag(result.version))


ACCOUNT_TTL = 30.0  # seconds an account found for a token is trusted before it is looked up again
KNOWN_ACCOUNTS = 4096


class BearerAuth(SecurityHandlers[Account]):
    """A bearer token is valid when it verifies (HS256, unexpired, all claims) and its subject still exists.

    The API never changes or deletes an account, so one found is remembered for ACCOUNT_TTL: an account removed
    from the database by other means stops authenticating within that time, and most requests save a query.
    """

    def __init__(self, tokens: Tokens, users: Users) -> None:
        self._tokens = tokens
        self._users = users
        self._known: dict[str, tuple[Account, float]] = {}

    def forget(self, account_id: str) -> None:
        self._known.pop(account_id, None)

    async def bearer_auth(self, ctx: Context, credentials: str) -> Account:
        try:
            subject = self._tokens.subject(credentials)
        except InvalidToken:
            raise AuthenticationFailed() from None
        now = time.monotonic()
        known = self._known.get(subject)
        if known is not None and known[1] > now:
            return known[0]
        account = await self._users.get(subject)
        if account is None:
            self._known.pop(subject, None)
            raise AuthenticationFailed()
        if len(self._known) >= KNOWN_ACCOUNTS:
            self._known.clear()
        self._known[subject] = (account, now + ACCOUNT_TTL)
        return account
