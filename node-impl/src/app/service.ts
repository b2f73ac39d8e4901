/** The example API: accounts and their tasks. `implements Service<User>` is the compile-time proof of completeness. */
import { randomUUID } from "node:crypto";

import type { components } from "../generated/schema.js";
import type * as api from "../generated/service.js";
import { Problem, invalid, invalidCredentials } from "fastify-twinapi";
import { isForeignKeyViolation } from "./db.js";
import type { Repository, TaskFields, TaskRow, UserRow } from "./repository.js";
import type { LoginFailures } from "./logins.js";
import type { Passwords, Tokens } from "./security.js";

const THROTTLED = "Too many failed logins; try again later.";

export type User = components["schemas"]["User"];
type Task = components["schemas"]["Task"];

const NO_TASK = "No task with this id.";
const STALE = "The task has changed since it was read.";
const NOT_A_CURSOR = "is not a cursor this server issued";
const CURSOR = /^v1:([1-9][0-9]*)$/;
const MAX_SEQ = 2n ** 63n - 1n;
// RFC 9110 entity-tag: optional W/, then a quoted string without controls, spaces or quotes.
// eslint-disable-next-line no-control-regex
const ENTITY_TAG = /^(W\/)?"([^"\x00-\x20\x7f]*)"$/;
const SPACES = /^[ \t]+|[ \t]+$/g;

function now(): string {
  return new Date().toISOString();
}

/** Only A-Z are lowered: no locale or Unicode case mapping, the same in every implementation. */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

export function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, displayName: row.display_name, createdAt: row.created_at };
}

function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    title: row.title,
    notes: row.notes,
    dueDate: row.due_date,
    priority: row.priority as Task["priority"],
    status: row.status as Task["status"],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function etag(version: number): string {
  return `"${version}"`;
}

function encodeCursor(seq: number): string {
  return Buffer.from(`v1:${seq}`, "ascii").toString("base64url");
}

/** The seq a cursor points before, or null for anything this server did not issue (decoding strictly). */
function decodeCursor(cursor: string): bigint | null {
  const bytes = Buffer.from(cursor, "base64url");
  if (bytes.toString("base64url") !== cursor) return null;
  const seq = CURSOR.exec(bytes.toString("latin1"))?.[1];
  if (seq === undefined || BigInt(seq) > MAX_SEQ) return null;
  return BigInt(seq);
}

/**
 * If-Match: absent or `*` matches any existing task; otherwise one of the listed strong tags must be the current
 * one. Weak tags never match, and a header that is not a list of entity tags matches nothing.
 */
function ifMatchAllows(header: string | undefined, version: number): boolean {
  if (header === undefined || header.replace(SPACES, "") === "*") return true;
  let matched = false;
  for (const item of header.split(",")) {
    const tag = item.replace(SPACES, "");
    if (tag === "") continue;
    const parsed = ENTITY_TAG.exec(tag);
    if (parsed === null) return false;
    if (parsed[1] === undefined && parsed[2] === String(version)) matched = true;
  }
  return matched;
}

export class TaskService implements api.Service<User> {
  constructor(
    private readonly repo: Repository,
    private readonly passwords: Passwords,
    private readonly tokens: Tokens,
    private readonly version: string,
    private readonly logins: LoginFailures,
    /** Drops an account from the authentication cache (`BearerAuth.forget`). */
    private readonly forgetAccount: (id: string) => void,
  ) {}

  async getHealth(): Promise<api.GetHealthResult> {
    return { status: "ok", implementation: "node", version: this.version };
  }

  async registerUser(request: api.RegisterUserRequest, reply: api.RegisterUserReply): Promise<api.RegisterUserResult> {
    const { email, password, displayName } = request.body;
    const row = {
      id: randomUUID(),
      email,
      email_key: asciiLower(email),
      display_name: displayName,
      password_hash: await this.passwords.hash(password),
      created_at: now(),
    };
    if (!(await this.repo.insertUser(row))) throw new Problem(409, "This email is already registered.");
    reply.code(201).header("location", "/users/me");
    return toUser(row);
  }

  async loginUser(request: api.LoginUserRequest): Promise<api.LoginUserResult> {
    const { email, password } = request.body;
    const key = asciiLower(email);
    // Checked before any password: while an account or an address is throttled, not even the right one logs in.
    const wait = await this.logins.retryAfter(key, request.ip);
    if (wait !== null) throw new Problem(429, THROTTLED, { headers: { "retry-after": String(wait) } });
    const row = await this.repo.userByEmailKey(key);
    const valid = await this.passwords.verify(password, row?.password_hash);
    if (!valid || row === undefined) {
      await this.logins.failed(key, request.ip); // an unknown email counts too, so 429 tells nothing either
      throw new Problem(401, "The email or password is wrong.", { headers: { "www-authenticate": "Bearer" } });
    }
    await this.logins.succeeded(key);
    return { accessToken: this.tokens.issue(row.id), tokenType: "Bearer", expiresIn: this.tokens.ttlSeconds, user: toUser(row) };
  }

  async getCurrentUser(request: api.GetCurrentUserRequest<User>): Promise<api.GetCurrentUserResult> {
    return request.principal;
  }

  async listTasks(request: api.ListTasksRequest<User>): Promise<api.ListTasksResult> {
    const { limit, cursor, status, q } = request.query;
    const before = cursor === undefined ? null : decodeCursor(cursor);
    if (before === null && cursor !== undefined) throw invalid([{ location: "query/cursor", message: NOT_A_CURSOR }]);
    // One row more than the page tells whether there is a next page.
    const rows = await this.repo.listTasks({
      ownerId: request.principal.id,
      before,
      status: status ?? null,
      text: q || null,
      limit: limit + 1,
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items: items.map(toTask), nextCursor: rows.length > limit && last ? encodeCursor(last.seq) : null };
  }

  async createTask(request: api.CreateTaskRequest<User>, reply: api.CreateTaskReply): Promise<api.CreateTaskResult> {
    const { title, notes, dueDate, priority } = request.body;
    const fields = { title, notes: notes ?? null, due_date: dueDate ?? null, priority, status: "open" };
    let row: TaskRow;
    try {
      row = await this.repo.insertTask(randomUUID(), request.principal.id, fields, now());
    } catch (error) {
      if (!isForeignKeyViolation(error)) throw error;
      // The account was deleted after its token was checked: the token is no longer valid.
      this.forgetAccount(request.principal.id);
      throw invalidCredentials();
    }
    reply.code(201).header("location", `/tasks/${row.id}`).header("etag", etag(row.version));
    return toTask(row);
  }

  async getTask(request: api.GetTaskRequest<User>, reply: api.GetTaskReply): Promise<api.GetTaskResult> {
    const row = await this.ownTask(this.repo, request.params.taskId, request.principal);
    reply.header("etag", etag(row.version));
    return toTask(row);
  }

  async updateTask(request: api.UpdateTaskRequest<User>, reply: api.UpdateTaskReply): Promise<api.UpdateTaskResult> {
    const row = await this.unlessRaced((repo) => this.update(repo, request));
    reply.header("etag", etag(row.version));
    return toTask(row);
  }

  /** The updated task; undefined when a write from elsewhere came between the read and the write. */
  private async update(repo: Repository, request: api.UpdateTaskRequest<User>): Promise<TaskRow | undefined> {
    const current = await this.ownTask(repo, request.params.taskId, request.principal);
    if (!ifMatchAllows(request.headers["if-match"], current.version)) throw new Problem(412, STALE);
    const patch = request.body;
    const fields: TaskFields = {
      title: patch.title ?? current.title,
      notes: patch.notes === undefined ? current.notes : patch.notes,
      due_date: patch.dueDate === undefined ? current.due_date : patch.dueDate,
      priority: patch.priority ?? current.priority,
      status: patch.status ?? current.status,
    };
    return repo.updateTask(current.id, request.principal.id, current.version, fields, now());
  }

  async deleteTask(request: api.DeleteTaskRequest<User>, reply: api.DeleteTaskReply): Promise<api.DeleteTaskResult> {
    await this.unlessRaced(async (repo) => {
      const current = await this.ownTask(repo, request.params.taskId, request.principal);
      if (!ifMatchAllows(request.headers["if-match"], current.version)) throw new Problem(412, STALE);
      return (await repo.deleteTask(current.id, request.principal.id, current.version)) ? true : undefined;
    });
    reply.code(204);
    return undefined;
  }

  /**
   * `attempt` reads a task, checks it and writes only if it is still at the version read. It runs first without a
   * transaction: on SQLite's one connection a transaction queues every other request's statements behind it. When
   * a write from elsewhere came between (the attempt returns undefined), it runs again inside one, where none can:
   * the answer is the one a transaction would have given with that write first, so a PATCH without If-Match, or
   * with a list that names the new version, never fails for someone else's write.
   */
  private async unlessRaced<T>(attempt: (repo: Repository) => Promise<T | undefined>): Promise<T> {
    const done = await attempt(this.repo);
    if (done !== undefined) return done;
    return this.repo.atomically(async (repo) => {
      const locked = await attempt(repo);
      if (locked !== undefined) return locked;
      // The task is locked from its read to its write (BEGIN IMMEDIATE, FOR UPDATE): this is a defect, not a race.
      throw new Error("a guarded write missed inside its transaction");
    });
  }

  /** Another user's task is as missing as one that never existed. */
  private async ownTask(repo: Repository, taskId: string, owner: User): Promise<TaskRow> {
    const row = await repo.task(taskId.toLowerCase(), owner.id);
    if (row === undefined) throw new Problem(404, NO_TASK);
    return row;
  }
}

/** Seconds an account found for a token is trusted before it is looked up again. */
const ACCOUNT_TTL_SECONDS = 30;
const KNOWN_ACCOUNTS = 4096;

/**
 * A bearer token is valid when it verifies (HS256, unexpired, all claims) and its subject still exists.
 *
 * The API never changes or deletes an account, so one found is remembered for ACCOUNT_TTL_SECONDS: an account
 * removed from the database by other means stops authenticating within that time, and most requests save a query.
 */
export class BearerAuth implements api.SecurityHandlers<User> {
  private readonly known = new Map<string, { user: User; until: number }>();

  constructor(
    private readonly tokens: Tokens,
    private readonly repo: Repository,
  ) {}

  forget(id: string): void {
    this.known.delete(id);
  }

  async bearerAuth(token: string): Promise<User> {
    const subject = this.tokens.subject(token);
    if (subject === null) throw invalidCredentials();
    const now = performance.now();
    const known = this.known.get(subject);
    if (known !== undefined && known.until > now) return known.user;
    const row = await this.repo.userById(subject);
    if (row === undefined) {
      this.known.delete(subject);
      throw invalidCredentials();
    }
    if (this.known.size >= KNOWN_ACCOUNTS) this.known.clear();
    const user = toUser(row);
    this.known.set(subject, { user, until: now + ACCOUNT_TTL_SECONDS * 1000 });
    return user;
  }
}
