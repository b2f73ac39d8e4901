/** Accounts: registration, lookup and update, with the uniqueness rules of CONVENTIONS.md. */
import type { Statement } from "better-sqlite3";

import type { Db } from "../db.js";
import { now } from "./time.js";

export interface UserRow {
  id: number;
  username: string;
  email: string;
  password_hash: string;
  /** `""` until set (the spec requires a string). */
  bio: string;
  image: string | null;
}

/** What PUT /user changes: the fields sent, `image: null` included; a password already hashed. */
export interface UserChanges {
  email?: string;
  username?: string;
  passwordHash?: string;
  bio?: string;
  image?: string | null;
}

export const EMAIL_TAKEN = "email has already been taken";
export const USERNAME_TAKEN = "username has already been taken";

const USER_COLUMNS = "id, username, email, password_hash, COALESCE(bio, '') AS bio, image";

/** Only A-Z are lowered: no locale or Unicode case mapping, so that both implementations key emails alike. */
export function emailKey(email: string): string {
  return email.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

interface Taken {
  email: number;
  username: number;
}

export class Users {
  private readonly byIdStmt: Statement<[number], UserRow>;
  private readonly byEmailKeyStmt: Statement<[string], UserRow>;
  private readonly takenStmt: Statement<{ key: string | null; username: string | null; id: number | null }, Taken>;
  private readonly insertStmt: Statement<[string, string, string, string, string, string], UserRow>;
  private readonly updateStmt: Statement<Record<string, string | number | null>, UserRow>;

  constructor(private readonly db: Db) {
    this.byIdStmt = db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`);
    this.byEmailKeyStmt = db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE email_key = ?`);
    // Another user (not @id) holding the email or the username; a null field is not checked.
    this.takenStmt = db.prepare(
      `SELECT EXISTS (SELECT 1 FROM users WHERE email_key = @key AND id IS NOT @id) AS email,
              EXISTS (SELECT 1 FROM users WHERE username = @username AND id IS NOT @id) AS username`,
    );
    this.insertStmt = db.prepare(
      `INSERT INTO users (username, email, email_key, password_hash, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING ${USER_COLUMNS}`,
    );
    // One statement for every combination of fields: a field not sent keeps its value.
    this.updateStmt = db.prepare(
      `UPDATE users SET
         email = CASE WHEN @setEmail THEN @email ELSE email END,
         email_key = CASE WHEN @setEmail THEN @emailKey ELSE email_key END,
         username = CASE WHEN @setUsername THEN @username ELSE username END,
         password_hash = CASE WHEN @setPassword THEN @passwordHash ELSE password_hash END,
         bio = CASE WHEN @setBio THEN @bio ELSE bio END,
         image = CASE WHEN @setImage THEN @image ELSE image END,
         updated_at = @now
       WHERE id = @id RETURNING ${USER_COLUMNS}`,
    );
  }

  byId(id: number): UserRow | undefined {
    return this.byIdStmt.get(id);
  }

  byEmail(email: string): UserRow | undefined {
    return this.byEmailKeyStmt.get(emailKey(email));
  }

  /** The new account, or the conflict messages (email first) when another account holds the email or username. */
  register(username: string, email: string, passwordHash: string): UserRow | string[] {
    const run = this.db.transaction((): UserRow | string[] => {
      const conflicts = this.conflicts(emailKey(email), username, null);
      if (conflicts.length > 0) return conflicts;
      const at = now();
      const row = this.insertStmt.get(username, email, emailKey(email), passwordHash, at, at);
      if (row === undefined) throw new Error("INSERT ... RETURNING returned no row");
      return row;
    });
    // IMMEDIATE: the check and the insert hold the write lock together, against the other server too.
    return run.immediate();
  }

  /** The updated account, or the conflict messages when the new email or username belongs to someone else. */
  update(id: number, changes: UserChanges): UserRow | string[] {
    const run = this.db.transaction((): UserRow | string[] => {
      const key = changes.email === undefined ? null : emailKey(changes.email);
      const conflicts = this.conflicts(key, changes.username ?? null, id);
      if (conflicts.length > 0) return conflicts;
      const row = this.updateStmt.get({
        id,
        now: now(),
        setEmail: Number(changes.email !== undefined),
        email: changes.email ?? null,
        emailKey: key,
        setUsername: Number(changes.username !== undefined),
        username: changes.username ?? null,
        setPassword: Number(changes.passwordHash !== undefined),
        passwordHash: changes.passwordHash ?? null,
        setBio: Number(changes.bio !== undefined),
        bio: changes.bio ?? null,
        setImage: Number(changes.image !== undefined),
        image: changes.image ?? null,
      });
      if (row === undefined) throw new Error(`user ${id} disappeared during its update`);
      return row;
    });
    return run.immediate();
  }

  private conflicts(key: string | null, username: string | null, id: number | null): string[] {
    const taken = this.takenStmt.get({ key, username, id });
    return [...(taken?.email ? [EMAIL_TAKEN] : []), ...(taken?.username ? [USERNAME_TAKEN] : [])];
  }
}
