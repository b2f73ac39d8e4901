/** Profiles and follows: `following` is always for the caller (false without one). */
import type { Statement } from "better-sqlite3";

import type { components } from "../../generated/schema.js";
import type { Db } from "../db.js";

export type Profile = components["schemas"]["Profile"];

export interface ProfileRow {
  id: number;
  username: string;
  bio: string;
  image: string | null;
  following: number;
}

export function toProfile(row: Pick<ProfileRow, "username" | "bio" | "image" | "following">): Profile {
  return { username: row.username, bio: row.bio, image: row.image, following: row.following === 1 };
}

export class Profiles {
  private readonly byUsernameStmt: Statement<{ username: string; viewer: number | null }, ProfileRow>;
  private readonly followStmt: Statement<[number, number]>;
  private readonly unfollowStmt: Statement<[number, number]>;

  constructor(db: Db) {
    this.byUsernameStmt = db.prepare(
      `SELECT u.id, u.username, COALESCE(u.bio, '') AS bio, u.image,
              EXISTS (SELECT 1 FROM follows WHERE follower_id = @viewer AND followed_id = u.id) AS following
       FROM users u WHERE u.username = @username`,
    );
    // Following twice, or unfollowing someone not followed, changes nothing: both are idempotent.
    this.followStmt = db.prepare("INSERT INTO follows (follower_id, followed_id) VALUES (?, ?) ON CONFLICT DO NOTHING");
    this.unfollowStmt = db.prepare("DELETE FROM follows WHERE follower_id = ? AND followed_id = ?");
  }

  byUsername(username: string, viewer: number | null): ProfileRow | undefined {
    return this.byUsernameStmt.get({ username, viewer });
  }

  follow(follower: number, followed: number): void {
    this.followStmt.run(follower, followed);
  }

  unfollow(follower: number, followed: number): void {
    this.unfollowStmt.run(follower, followed);
  }
}
