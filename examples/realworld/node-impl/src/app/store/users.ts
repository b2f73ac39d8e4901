/** Accounts: registration, lookup and update, with the uniqueness rules of CONVENTIONS.md. */
import { type Queries, now } from "../db.js";

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
// Another account than :besides (NULL: any account); the cast gives PostgreSQL the parameter's type.
const OTHER = "(CAST(:besides AS BIGINT) IS NULL OR id <> :besides)";

/** Only A-Z are lowered: no locale or Unicode case mapping, so that both implementations key emails alike. */
export function emailKey(email: string): string {
  return email.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

export function byId(q: Queries, id: number): Promise<UserRow | undefined> {
  return q.get<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = :id`, { id });
}

export function byEmail(q: Queries, email: string): Promise<UserRow | undefined> {
  return q.get<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE email_key = :key`, { key: emailKey(email) });
}

/** The messages (email first) for the email and username another account than `besides` already has. */
export async function taken(
  q: Queries,
  email: string | undefined,
  username: string | undefined,
  besides: number | null = null,
): Promise<string[]> {
  const problems: string[] = [];
  if (email !== undefined && (await q.get(`SELECT 1 FROM users WHERE email_key = :key AND ${OTHER}`, { key: emailKey(email), besides }))) {
    problems.push(EMAIL_TAKEN);
  }
  if (username !== undefined && (await q.get(`SELECT 1 FROM users WHERE username = :username AND ${OTHER}`, { username, besides }))) {
    problems.push(USERNAME_TAKEN);
  }
  return problems;
}

/** A new account; the caller has checked `taken` in the same transaction. */
export async function create(q: Queries, username: string, email: string, passwordHash: string): Promise<UserRow> {
  const at = now();
  const row = await q.get<UserRow>(
    `INSERT INTO users (username, email, email_key, password_hash, bio, image, created_at, updated_at)
     VALUES (:username, :email, :key, :hash, '', NULL, :at, :at) RETURNING ${USER_COLUMNS}`,
    { username, email, key: emailKey(email), hash: passwordHash, at },
  );
  if (row === undefined) throw new Error("INSERT ... RETURNING returned no row");
  return row;
}

/** The fields PUT /user may change, and their columns: nothing else reaches the SQL text. */
const CHANGEABLE: Readonly<Record<keyof UserChanges, string>> = {
  email: "email",
  username: "username",
  passwordHash: "password_hash",
  bio: "bio",
  image: "image",
};

/** Sets the fields given and the update time; undefined when the account no longer exists. */
export async function update(q: Queries, id: number, changes: UserChanges): Promise<UserRow | undefined> {
  const params: Record<string, unknown> = { id, at: now() };
  const assignments = ["updated_at = :at"];
  for (const [field, column] of Object.entries(CHANGEABLE) as [keyof UserChanges, string][]) {
    if (changes[field] === undefined) continue;
    assignments.push(`${column} = :${field}`);
    params[field] = changes[field];
  }
  if (changes.email !== undefined) {
    assignments.push("email_key = :emailKey");
    params["emailKey"] = emailKey(changes.email);
  }
  return q.get<UserRow>(`UPDATE users SET ${assignments.join(", ")} WHERE id = :id RETURNING ${USER_COLUMNS}`, params);
}
