/** Profiles and follows: `following` is always for the caller (false without one). */
import type { components } from "../../generated/schema.js";
import type { Queries } from "../db.js";

export type Profile = components["schemas"]["Profile"];

export interface ProfileRow {
  id: number;
  username: string;
  bio: string;
  image: string | null;
  /** SQLite's 0 or 1, PostgreSQL's boolean. */
  following: number | boolean;
}

export function toProfile(row: Pick<ProfileRow, "username" | "bio" | "image" | "following">): Profile {
  return { username: row.username, bio: row.bio, image: row.image, following: Boolean(row.following) };
}

/** The user named `username` as `viewer` (null: anonymous) sees them. */
export async function byUsername(q: Queries, username: string, viewer: number | null): Promise<ProfileRow | undefined> {
  // The contract refuses NUL in every username sent, and PostgreSQL could not compare one.
  if (username.includes("\0")) return undefined;
  return q.get<ProfileRow>(
    `SELECT u.id, u.username, COALESCE(u.bio, '') AS bio, u.image,
            EXISTS (SELECT 1 FROM follows WHERE follower_id = :viewer AND followed_id = u.id) AS following
     FROM users u WHERE u.username = :username`,
    { username, viewer },
  );
}

/** Idempotent: following again changes nothing. */
export async function follow(q: Queries, follower: number, followed: number): Promise<void> {
  await q.run("INSERT INTO follows (follower_id, followed_id) VALUES (:follower, :followed) ON CONFLICT DO NOTHING", {
    follower,
    followed,
  });
}

export async function unfollow(q: Queries, follower: number, followed: number): Promise<void> {
  await q.run("DELETE FROM follows WHERE follower_id = :follower AND followed_id = :followed", { follower, followed });
}
