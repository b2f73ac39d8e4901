/**
 * Every SQL statement of the API. Plain SQL with `:name` parameters, run by either engine (db.ts); the service
 * sees only these methods.
 */
import { type Db, type Queries, forUpdate, isUniqueViolation } from "./db.js";

export interface UserRow {
  id: string;
  email: string;
  display_name: string;
  password_hash: string;
  created_at: string;
}

export interface TaskRow {
  seq: number;
  id: string;
  title: string;
  notes: string | null;
  due_date: string | null;
  priority: string;
  status: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface NewUserRow extends UserRow {
  email_key: string;
}

export interface TaskFields {
  title: string;
  notes: string | null;
  due_date: string | null;
  priority: string;
  status: string;
}

export interface ListQuery {
  ownerId: string;
  /** Only tasks older than this seq (the cursor's), or all when null. */
  before: bigint | null;
  status: string | null;
  /** Substring of title or notes, ASCII case-insensitive; null for no filter. */
  text: string | null;
  limit: number;
}

const TASK_COLUMNS = "seq, id, title, notes, due_date, priority, status, version, created_at, updated_at";

// Each statement's text is one string made once: the database keys its prepared statements by it.
const INSERT_USER =
  "INSERT INTO users (id, email, email_key, display_name, password_hash, created_at) VALUES (:id, :email, :email_key, :display_name, :password_hash, :created_at)";
const USER_BY_ID = "SELECT id, email, display_name, password_hash, created_at FROM users WHERE id = :id";
const USER_BY_EMAIL_KEY = "SELECT id, email, display_name, password_hash, created_at FROM users WHERE email_key = :key";
const INSERT_TASK = `INSERT INTO tasks (id, owner_id, title, notes, due_date, priority, status, version, created_at, updated_at)
       VALUES (:id, :owner, :title, :notes, :due_date, :priority, :status, 1, :now, :now) RETURNING ${TASK_COLUMNS}`;
const TASK = `SELECT ${TASK_COLUMNS} FROM tasks WHERE id = :id AND owner_id = :owner`;
const UPDATE_TASK = `UPDATE tasks SET title = :title, notes = :notes, due_date = :due_date, priority = :priority, status = :status,
         version = version + 1, updated_at = :now
       WHERE id = :id AND owner_id = :owner AND version = :version RETURNING ${TASK_COLUMNS}`;
const DELETE_TASK = "DELETE FROM tasks WHERE id = :id AND owner_id = :owner AND version = :version";

/** Title or notes contain :text, ignoring ASCII case only (see python-impl/app/store/tasks.py). */
const CONTAINS = {
  sqlite: "(instr(lower(title), lower(:text)) > 0 OR instr(lower(coalesce(notes, '')), lower(:text)) > 0)",
  postgresql:
    '(strpos(lower(title), lower(:text::text COLLATE "C")) > 0 OR strpos(lower(coalesce(notes, \'\')), lower(:text::text COLLATE "C")) > 0)',
} as const;

export class Repository {
  /** On the database itself (`root` is it), or inside one of its transactions (`root` null). */
  constructor(
    private readonly db: Queries,
    private readonly root: Db | null,
  ) {}

  static of(db: Db): Repository {
    return new Repository(db, db);
  }

  /** False when the email is taken (the unique index decides, so two racing registrations cannot both win). */
  async insertUser(user: NewUserRow): Promise<boolean> {
    try {
      await this.db.run(INSERT_USER, { ...user });
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  userById(id: string): Promise<UserRow | undefined> {
    return this.db.get<UserRow>(USER_BY_ID, { id });
  }

  userByEmailKey(emailKey: string): Promise<UserRow | undefined> {
    return this.db.get<UserRow>(USER_BY_EMAIL_KEY, { key: emailKey });
  }

  async insertTask(id: string, ownerId: string, fields: TaskFields, now: string): Promise<TaskRow> {
    // Parameters as one literal (not a spread): a spread's copy is rebuilt through V8's slow path on every call.
    const row = await this.db.get<TaskRow>(INSERT_TASK, {
      id,
      owner: ownerId,
      title: fields.title,
      notes: fields.notes,
      due_date: fields.due_date,
      priority: fields.priority,
      status: fields.status,
      now,
    });
    if (row === undefined) throw new Error("INSERT ... RETURNING returned no row");
    return row;
  }

  /** The task; inside `atomically`, locked against other writers until the transaction ends. */
  task(id: string, ownerId: string): Promise<TaskRow | undefined> {
    return this.db.get<TaskRow>(this.root === null ? TASK + forUpdate(this.db) : TASK, { id, owner: ownerId });
  }

  /** Up to `limit` tasks, newest first. */
  listTasks({ ownerId, before, status, text, limit }: ListQuery): Promise<TaskRow[]> {
    // Conditions are added only when used, so the (owner_id, seq) index serves the range and the order.
    let sql = `SELECT ${TASK_COLUMNS} FROM tasks WHERE owner_id = :owner`;
    const params: Record<string, unknown> = { owner: ownerId, limit };
    if (before !== null) {
      sql += " AND seq < :before";
      params["before"] = before;
    }
    if (status !== null) {
      sql += " AND status = :status";
      params["status"] = status;
    }
    if (text !== null) {
      sql += ` AND ${CONTAINS[this.db.dialect]}`;
      params["text"] = text;
    }
    return this.db.all<TaskRow>(`${sql} ORDER BY seq DESC LIMIT :limit`, params);
  }

  /**
   * Runs `work` in one write transaction with a repository bound to it: nothing `task` reads in it can change
   * before it writes (SQLite's BEGIN IMMEDIATE, PostgreSQL's SELECT ... FOR UPDATE).
   */
  atomically<T>(work: (repo: Repository) => Promise<T>): Promise<T> {
    if (this.root === null) throw new Error("already inside a transaction");
    return this.root.transaction((tx) => work(new Repository(tx, null)));
  }

  /** The updated row, or undefined when the task is gone or no longer at `version` (someone else wrote first). */
  updateTask(id: string, ownerId: string, version: number, fields: TaskFields, now: string): Promise<TaskRow | undefined> {
    return this.db.get<TaskRow>(UPDATE_TASK, {
      title: fields.title,
      notes: fields.notes,
      due_date: fields.due_date,
      priority: fields.priority,
      status: fields.status,
      now,
      id,
      owner: ownerId,
      version,
    });
  }

  /** False when the task is gone or no longer at `version`. */
  async deleteTask(id: string, ownerId: string, version: number): Promise<boolean> {
    return (await this.db.run(DELETE_TASK, { id, owner: ownerId, version })) === 1;
  }
}
