"""The whole tasks API written the way FastAPI's documentation teaches it, for a like-for-like comparison.

Pydantic models with `response_model`, `Depends` for the database connection and the current user, `HTTPBearer`
for the token, PyJWT and bcrypt as in the security tutorial, plain `def` path operations (FastAPI runs them in its
thread pool, so blocking sqlite3 and bcrypt calls do not stall the event loop). Same schema (db/migrations), same
claims (`sub`, `iat`, `exp`, HS256), same bcrypt cost (BCRYPT_ROUNDS), same ETags and cursors as the
implementations. `uvicorn twinapi_bench.refs.fastapi_tasks:app`; HOST/PORT are the server's, DATABASE_URL,
JWT_SECRET, JWT_TTL_SECONDS and BCRYPT_ROUNDS are read here.

Where the contract asks for more than FastAPI does by default, the documented extension points are used:
exception handlers turn HTTPException and RequestValidationError into 400/4xx problem+json (FastAPI answers 422
`{"detail": [...]}`), the 405 handler lists every method of the path in Allow (Starlette lists one route's), and a
dependency answers 415/413 for bodies that are not JSON or too large. Request models are strict (no coercion,
no unknown fields), as the contract's JSON Schema is.
"""

from __future__ import annotations

import base64
import binascii
import os
import queue
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing
from datetime import UTC, date, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any, Literal

import bcrypt
import jwt
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

MIGRATIONS = Path(__file__).resolve().parents[3] / "db" / "migrations"
MAX_BODY = 65_536


def _database_path() -> Path:
    url = os.environ.get("DATABASE_URL", "sqlite:///data/app.db")
    return Path(url.removeprefix("sqlite:///")).absolute()


SECRET = os.environ.get("JWT_SECRET", "")
TTL_SECONDS = int(os.environ.get("JWT_TTL_SECONDS", "3600"))
BCRYPT_ROUNDS = int(os.environ.get("BCRYPT_ROUNDS", "12"))
DUMMY_HASH = bcrypt.hashpw(b"no account has this password", bcrypt.gensalt(BCRYPT_ROUNDS))


# --- models -------------------------------------------------------------------------------------------------

_EMAIL_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^{_EMAIL_ATOM}(?:\.{_EMAIL_ATOM})*@(?:{_EMAIL_LABEL}\.)*{_EMAIL_LABEL}$"


def _real_date(value: str) -> str:
    date.fromisoformat(value)  # ValueError for 2026-02-30: a validation error
    return value


Email = Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN)]
DueDate = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), AfterValidator(_real_date)]
Title = Annotated[str, Field(min_length=1, max_length=200)]
Notes = Annotated[str, Field(max_length=2000)]
Priority = Literal["low", "normal", "high"]
Status = Literal["open", "done"]


class Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Input(Camel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NewUser(Input):
    email: Email
    password: Annotated[str, Field(min_length=8, max_length=72, pattern=r"^[^\x00]*$")]
    display_name: Annotated[str, Field(min_length=1, max_length=80)]


class LoginRequest(Input):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=72, pattern=r"^[^\x00]*$")]


class NewTask(Input):
    title: Title
    notes: Notes | None = None
    due_date: DueDate | None = None
    priority: Priority = "normal"

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        # Optional, but not nullable: null is refused (only TaskPatch takes null, to clear a field).
        if isinstance(data, dict) and any(data.get(k, "") is None for k in ("notes", "dueDate", "priority")):
            raise ValueError("notes, dueDate and priority may be left out but not null")
        return data


class TaskPatch(Input):
    title: Title | None = None
    notes: Notes | None = None
    due_date: DueDate | None = None
    priority: Priority | None = None
    status: Status | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> TaskPatch:
        if not self.model_fields_set:
            raise ValueError("at least one field is required")
        for name in ("title", "priority", "status"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class Health(BaseModel):
    status: Literal["ok"]
    implementation: Literal["python", "node"]
    version: str


class User(Camel):
    id: uuid.UUID
    email: str
    display_name: str
    created_at: str


class Login(Camel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    user: User


class Task(Camel):
    id: uuid.UUID
    title: str
    notes: str | None
    due_date: str | None
    priority: Priority
    status: Status
    created_at: str
    updated_at: str


class TaskPage(Camel):
    items: list[Task]
    next_cursor: str | None


# --- database -----------------------------------------------------------------------------------------------


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def migrate(conn: sqlite3.Connection) -> None:
    """The same migrations and history table as the implementations (checksums are theirs to verify)."""
    import hashlib

    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for file in sorted(MIGRATIONS.glob("*.sql")):
            if file.stem in applied:
                continue
            script = file.read_bytes()
            statement = ""
            for line in script.decode().splitlines(keepends=True):
                statement += line
                if sqlite3.complete_statement(statement):
                    conn.execute(statement)
                    statement = ""
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                (file.stem, hashlib.sha256(script).hexdigest(), utc_now()),
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


class Pool:
    """Connections reused from one request to the next, a new one when all are busy (SQLAlchemy's engine would do
    this for us). Never blocking for a free one: a request waiting in the thread pool for a connection that only
    another request's teardown, queued behind it for a thread, can give back would deadlock under load.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = []

    def get(self) -> sqlite3.Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            conn = connect(self._path)
            self._all.append(conn)
            return conn

    def put(self, conn: sqlite3.Connection) -> None:
        self._idle.put(conn)

    def close(self) -> None:
        for conn in self._all:
            conn.close()


def get_db(request: Request) -> Iterator[sqlite3.Connection]:
    pool: Pool = request.app.state.pool
    conn = pool.get()
    try:
        yield conn
    finally:
        pool.put(conn)


Db = Annotated[sqlite3.Connection, Depends(get_db)]

# SQLite takes one writer at a time, and its busy handler polls with sleeps: with 40 threads writing, one of them
# can lose every race for seconds, past busy_timeout, and its client gets an error. Queueing the writes of this
# process on a lock instead keeps every write's wait short.
WRITES = threading.Lock()


def execute_write(db: sqlite3.Connection, sql: str, params: Any) -> list[sqlite3.Row]:
    """Runs one writing statement to its end (RETURNING rows included) while holding the process's write lock."""
    with WRITES:
        return db.execute(sql, params).fetchall()


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- security -----------------------------------------------------------------------------------------------

bearer = HTTPBearer(auto_error=False)


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def password_bytes(password: str) -> bytes:
    return password.encode()[:72]  # the contract: only the first 72 bytes of the UTF-8 encoding count


def create_access_token(user_id: str) -> str:
    now = int(time.time())
    return jwt.encode({"sub": user_id, "iat": now, "exp": now + TTL_SECONDS}, SECRET, algorithm="HS256")


def get_current_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)], db: Db
) -> sqlite3.Row:
    if credentials is None:
        raise unauthorized("A valid bearer token is required.")
    try:
        claims = jwt.decode(
            credentials.credentials,
            SECRET,
            algorithms=["HS256"],
            options={"require": ["exp", "iat", "sub"], "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise unauthorized("A valid bearer token is required.") from None
    if not isinstance(claims["sub"], str) or type(claims["iat"]) is not int:
        raise unauthorized("A valid bearer token is required.")
    user: sqlite3.Row | None = db.execute(
        "SELECT id, email, display_name, created_at FROM users WHERE id = ?", (claims["sub"],)
    ).fetchone()
    if user is None:
        raise unauthorized("A valid bearer token is required.")
    return user


CurrentUser = Annotated[sqlite3.Row, Depends(get_current_user)]


def json_body(request: Request) -> None:
    """415 for a body that is not JSON, 413 above 64 KiB (after authentication, before validation)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json" and not (kind.startswith("application/") and kind.endswith("+json")):
        raise HTTPException(status_code=415, detail="The request body must be application/json.")
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        raise HTTPException(status_code=413, detail=f"The request body is larger than {MAX_BODY} bytes.")


JsonBody = Annotated[None, Depends(json_body)]


# --- ETags and cursors (the implementations' formats) ---------------------------------------------------------

_ETAG_ITEM = re.compile(r'[ \t]*(?:(W/)?"([^"\x00-\x20\x7f]*)")?[ \t]*(?:,|\Z)')
_CURSOR = re.compile(r"v1:([1-9][0-9]*)")


def expected_versions(if_match: str | None) -> set[int] | None:
    """None: any version (no header or `*`); else the strong versions listed (empty: nothing can match)."""
    if if_match is None or if_match.strip(" \t") == "*":
        return None
    versions: set[int] = set()
    pos = 0
    while pos < len(if_match):
        item = _ETAG_ITEM.match(if_match, pos)
        if item is None or item.end() == pos:
            return set()
        pos = item.end()
        if item[2] and item[1] is None and re.fullmatch(r"[1-9][0-9]{0,17}", item[2]):
            versions.add(int(item[2]))
    return versions


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{seq}".encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    match = _CURSOR.fullmatch(text)
    if match is None or encode_cursor(int(match[1])) != cursor or int(match[1]) >= 2**63:
        return None
    return int(match[1])


# --- the application ----------------------------------------------------------------------------------------


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    path = _database_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(connect(path)) as conn:
        migrate(conn)
    app.state.pool = Pool(path)
    try:
        yield
    finally:
        app.state.pool.close()


app = FastAPI(title="Tasks API", version="1.0.0", lifespan=lifespan)
TASK_COLUMNS = "seq, id, title, notes, due_date, priority, status, version, created_at, updated_at"
NO_TASK = "No task with this id."
CHANGED = "The task has changed since it was read."


def problem(request: Request, status: int, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    return JSONResponse(
        {**body, "instance": request.url.path, **extra}, status_code=status, media_type="application/problem+json"
    )


@app.exception_handler(StarletteHTTPException)
async def http_problem(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    # FastAPI's own 400 (a body that is not UTF-8 JSON) is a validation problem of the contract.
    extra = {"errors": [{"location": "body", "message": str(exc.detail)}]} if exc.status_code == 400 else {}
    answer = problem(request, exc.status_code, str(exc.detail), **extra)
    answer.headers.update(exc.headers or {})
    if exc.status_code == 405:
        # Every route of this path, not only the first that matched it.
        allowed = {
            method
            for route in app.router.routes
            if route.matches(request.scope)[0] != Match.NONE
            for method in getattr(route, "methods", None) or ()
        }
        answer.headers["Allow"] = ", ".join(sorted(allowed))
    return answer


@app.exception_handler(RequestValidationError)
async def validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"location": "/".join(str(part) for part in e["loc"] if part != "__root__"), "message": e["msg"]}
        for e in exc.errors()
    ]
    return problem(request, 400, "The request does not match the contract.", errors=errors)


@app.exception_handler(Exception)
async def server_error(request: Request, exc: Exception) -> JSONResponse:
    return problem(request, 500, "The server could not answer this request.")


@app.get("/health", response_model=Health)
async def get_health() -> dict[str, str]:  # no I/O: no thread to hop to, as in the bare route reference
    return {"status": "ok", "implementation": "python", "version": "1.0.0"}


@app.post("/users", response_model=User, status_code=201)
def register_user(_: JsonBody, new: NewUser, db: Db, response: Response) -> dict[str, Any]:
    hashed = bcrypt.hashpw(password_bytes(new.password), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()
    user = {"id": str(uuid.uuid4()), "email": new.email, "display_name": new.display_name, "created_at": utc_now()}
    inserted = execute_write(
        db,
        "INSERT INTO users (id, email, email_key, display_name, password_hash, created_at)"
        " VALUES (:id, :email, :email_key, :display_name, :hash, :created_at) ON CONFLICT (email_key) DO NOTHING"
        " RETURNING id",
        {**user, "email_key": ascii_lower(new.email), "hash": hashed},
    )
    if not inserted:
        raise HTTPException(status_code=409, detail="This email is already registered.")
    response.headers["Location"] = "/users/me"
    return user


@app.post("/auth/login", response_model=Login)
def login_user(_: JsonBody, credentials: LoginRequest, db: Db) -> dict[str, Any]:
    row = db.execute(
        "SELECT id, email, display_name, created_at, password_hash FROM users WHERE email_key = ?",
        (ascii_lower(credentials.email),),
    ).fetchone()
    # A verify for an unknown email too, so the answer's timing does not tell which emails exist.
    hashed = row["password_hash"].encode() if row else DUMMY_HASH
    if not bcrypt.checkpw(password_bytes(credentials.password), hashed) or row is None:
        raise unauthorized("The email or password is wrong.")
    return {
        "access_token": create_access_token(row["id"]),
        "token_type": "Bearer",
        "expires_in": TTL_SECONDS,
        "user": dict(row),
    }


@app.get("/users/me", response_model=User)
def get_current_account(user: CurrentUser) -> dict[str, Any]:
    return dict(user)


@app.get("/tasks", response_model=TaskPage)
def list_tasks(
    user: CurrentUser,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    status: Annotated[Status | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    sql, params = f"SELECT {TASK_COLUMNS} FROM tasks WHERE owner_id = :owner", {"owner": user["id"], "n": limit + 1}
    if cursor is not None:
        after = decode_cursor(cursor)
        if after is None:
            raise RequestValidationError(
                [{"loc": ("query", "cursor"), "msg": "is not a cursor this server issued", "type": "cursor"}]
            )
        sql += " AND seq < :after"
        params["after"] = after
    if status is not None:
        sql += " AND status = :status"
        params["status"] = status
    if q:
        sql += " AND (instr(lower(title), lower(:q)) > 0 OR instr(lower(coalesce(notes, '')), lower(:q)) > 0)"
        params["q"] = q
    rows = db.execute(sql + " ORDER BY seq DESC LIMIT :n", params).fetchall()
    items = [dict(row) for row in rows[:limit]]
    return {"items": items, "next_cursor": encode_cursor(items[-1]["seq"]) if len(rows) > limit else None}


@app.post("/tasks", response_model=Task, status_code=201)
def create_task(user: CurrentUser, _: JsonBody, new: NewTask, db: Db, response: Response) -> dict[str, Any]:
    now = utc_now()
    row = execute_write(
        db,
        "INSERT INTO tasks (id, owner_id, title, notes, due_date, priority, status, version, created_at, updated_at)"
        f" VALUES (?, ?, ?, ?, ?, ?, 'open', 1, ?, ?) RETURNING {TASK_COLUMNS}",
        (str(uuid.uuid4()), user["id"], new.title, new.notes, new.due_date, new.priority, now, now),
    )[0]
    response.headers["Location"] = f"/tasks/{row['id']}"
    response.headers["ETag"] = f'"{row["version"]}"'
    return dict(row)


@app.get("/tasks/{task_id}", response_model=Task)
def get_task(task_id: uuid.UUID, user: CurrentUser, db: Db, response: Response) -> dict[str, Any]:
    row = db.execute(
        f"SELECT {TASK_COLUMNS} FROM tasks WHERE id = ? AND owner_id = ?", (str(task_id), user["id"])
    ).fetchone()
    if row is None:
        raise HTTPException(status_code=404, detail=NO_TASK)
    response.headers["ETag"] = f'"{row["version"]}"'
    return dict(row)


IfMatch = Annotated[str | None, Header(alias="If-Match", min_length=1, max_length=200)]
PATCHABLE = {"title", "notes", "due_date", "priority", "status"}


@app.patch("/tasks/{task_id}", response_model=Task)
def update_task(
    task_id: uuid.UUID,
    user: CurrentUser,
    _: JsonBody,
    patch: TaskPatch,
    db: Db,
    response: Response,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    changes = patch.model_dump(include=PATCHABLE & patch.model_fields_set)
    sets = ", ".join(f"{column} = :{column}" for column in changes)
    params = {**changes, "id": str(task_id), "owner": user["id"], "now": utc_now()}
    row = _write(
        db,
        f"UPDATE tasks SET {sets}, version = version + 1, updated_at = :now WHERE id = :id AND owner_id = :owner"
        f"{{versions}} RETURNING {TASK_COLUMNS}",
        params,
        expected_versions(if_match),
    )
    response.headers["ETag"] = f'"{row["version"]}"'
    return dict(row)


@app.delete("/tasks/{task_id}", status_code=204, response_class=Response)
def delete_task(task_id: uuid.UUID, user: CurrentUser, db: Db, if_match: IfMatch = None) -> Response:
    _write(
        db,
        "DELETE FROM tasks WHERE id = :id AND owner_id = :owner{versions} RETURNING seq",
        {"id": str(task_id), "owner": user["id"]},
        expected_versions(if_match),
    )
    return Response(status_code=204)


def _write(db: sqlite3.Connection, sql: str, params: dict[str, Any], versions: set[int] | None) -> sqlite3.Row:
    """Runs an UPDATE/DELETE ... RETURNING guarded by the expected versions; 404 or 412 when nothing matched."""
    if versions is None or versions:
        condition = "" if versions is None else f" AND version IN ({', '.join(str(v) for v in sorted(versions))})"
        rows = execute_write(db, sql.format(versions=condition), params)
        if rows:
            row: sqlite3.Row = rows[0]
            return row
    exists = db.execute("SELECT 1 FROM tasks WHERE id = :id AND owner_id = :owner", params).fetchone()
    raise HTTPException(status_code=412 if exists else 404, detail=CHANGED if exists else NO_TASK)


def ascii_lower(text: str) -> str:
    return text.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"))
