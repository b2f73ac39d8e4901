/**
 * Every SQL statement of the API, prepared once. Plain SQL with positional parameters, so a PostgreSQL driver can
 * take this module's place without the service changing.
 */
import type { Statement } from "better-sqlite3";

import type { Db } from "./db.js";

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

export class Repository {
  private readonly insertUserStmt: Statement<[NewUserRow]>;
  private readonly userByIdStmt: Statement<[string], UserRow>;
  private readonly userByEmailStmt: Statement<[string], UserRow>;
  private readonly insertTaskStmt: Statement<
    [string, string, string, string | null, string | null, string, string, string, string],
    TaskRow
  >;
  private readonly taskStmt: Statement<[string, string], TaskRow>;
  private readonly listStmt: Statement<
    [string, bigint | null, bigint | null, string | null, string | null, string | null, string | null, string | null, number],
    TaskRow
  >;
  private readonly updateStmt: Statement<[string, string | null, string | null, string, string, string, string, string, number], TaskRow>;
  private readonly deleteStmt: Statement<[string, string, number]>;

  constructor(private readonly db: Db) {
    this.insertUserStmt = db.prepare(
      "INSERT INTO users (id, email, email_key, display_name, password_hash, created_at) VALUES (@id, @email, @email_key, @display_name, @password_hash, @created_at)",
    );
    this.userByIdStmt = db.prepare("SELECT id, email, display_name, password_hash, created_at FROM users WHERE id = ?");
    this.userByEmailStmt = db.prepare("SELECT id, email, display_name, password_hash, created_at FROM users WHERE email_key = ?");
    this.insertTaskStmt = db.prepare(
      `INSERT INTO tasks (id, owner_id, title, notes, due_date, priority, status, version, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING ${TASK_COLUMNS}`,
    );
    this.taskStmt = db.prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ? AND owner_id = ?`);
    this.listStmt = db.prepare(
      `SELECT ${TASK_COLUMNS} FROM tasks
       WHERE owner_id = ?
         AND (? IS NULL OR seq < ?)
         AND (? IS NULL OR status = ?)
         AND (? IS NULL OR instr(lower(title), lower(?)) > 0 OR instr(lower(coalesce(notes, '')), lower(?)) > 0)
       ORDER BY seq DESC LIMIT ?`,
    );
    this.updateStmt = db.prepare(
      `UPDATE tasks SET title = ?, notes = ?, due_date = ?, priority = ?, status = ?, version = version + 1, updated_at = ?
       WHERE id = ? AND owner_id = ? AND version = ? RETURNING ${TASK_COLUMNS}`,
    );
    this.deleteStmt = db.prepare("DELETE FROM tasks WHERE id = ? AND owner_id = ? AND version = ?");
  }

  /** False when the email is taken (the unique index decides, so two racing registrations cannot both win). */
  insertUser(user: NewUserRow): boolean {
    try {
      this.insertUserStmt.run(user);
      return true;
    } catch (error) {
      if (error instanceof Error && "code" in error && error.code === "SQLITE_CONSTRAINT_UNIQUE") return false;
      throw error;
    }
  }

  userById(id: string): UserRow | undefined {
    return this.userByIdStmt.get(id);
  }

  userByEmailKey(emailKey: string): UserRow | undefined {
    return this.userByEmailStmt.get(emailKey);
  }

  insertTask(id: string, ownerId: string, fields: TaskFields, now: string): TaskRow {
    const row = this.insertTaskStmt.get(id, ownerId, fields.title, fields.notes, fields.due_date, fields.priority, fields.status, now, now);
    if (row === undefined) throw new Error("INSERT ... RETURNING returned no row");
    return row;
  }

  task(id: string, ownerId: string): TaskRow | undefined {
    return this.taskStmt.get(id, ownerId);
  }

  /** Up to `limit` tasks, newest first. */
  listTasks({ ownerId, before, status, text, limit }: ListQuery): TaskRow[] {
    return this.listStmt.all(ownerId, before, before, status, status, text, text, text, limit);
  }

  /** Runs `work` in one write transaction (BEGIN IMMEDIATE): nothing it reads can change before it writes. */
  atomically<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  /** The updated row, or undefined when the task is gone or no longer at `version` (someone else wrote first). */
  updateTask(id: string, ownerId: string, version: number, fields: TaskFields, now: string): TaskRow | undefined {
    return this.updateStmt.get(fields.title, fields.notes, fields.due_date, fields.priority, fields.status, now, id, ownerId, version);
  }

  /** False when the task is gone or no longer at `version`. */
  deleteTask(id: string, ownerId: string, version: number): boolean {
    return this.deleteStmt.run(id, ownerId, version).changes === 1;
  }
}
