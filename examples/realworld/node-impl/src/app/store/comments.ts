/** Comments on an article, oldest first; each with its author's profile as the caller sees it. */
import type { Statement } from "better-sqlite3";

import type { components } from "../../generated/schema.js";
import type { Db } from "../db.js";
import { toProfile } from "./profiles.js";
import { now } from "./time.js";

export type Comment = components["schemas"]["Comment"];

interface CommentRow {
  id: number;
  body: string;
  created_at: string;
  updated_at: string;
  username: string;
  bio: string;
  image: string | null;
  following: number;
}

const COMMENT_SELECT = `
  SELECT c.id, c.body, c.created_at, c.updated_at, u.username, COALESCE(u.bio, '') AS bio, u.image,
         EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = @viewer AND fo.followed_id = c.author_id) AS following
  FROM comments c JOIN users u ON u.id = c.author_id`;

function toComment(row: CommentRow): Comment {
  return { id: row.id, createdAt: row.created_at, updatedAt: row.updated_at, body: row.body, author: toProfile(row) };
}

export class Comments {
  private readonly listStmt: Statement<{ article: number; viewer: number | null }, CommentRow>;
  private readonly oneStmt: Statement<{ id: number; viewer: number | null }, CommentRow>;
  private readonly insertStmt: Statement<[number, number, string, string, string], { id: number }>;
  private readonly authorStmt: Statement<[number, number], { author_id: number }>;
  private readonly deleteStmt: Statement<[number]>;

  constructor(db: Db) {
    this.listStmt = db.prepare(`${COMMENT_SELECT} WHERE c.article_id = @article ORDER BY c.id`);
    this.oneStmt = db.prepare(`${COMMENT_SELECT} WHERE c.id = @id`);
    this.insertStmt = db.prepare(
      "INSERT INTO comments (article_id, author_id, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
    );
    this.authorStmt = db.prepare("SELECT author_id FROM comments WHERE id = ? AND article_id = ?");
    this.deleteStmt = db.prepare("DELETE FROM comments WHERE id = ?");
  }

  list(articleId: number, viewer: number | null): Comment[] {
    return this.listStmt.all({ article: articleId, viewer }).map(toComment);
  }

  create(articleId: number, authorId: number, body: string): Comment {
    const at = now();
    const inserted = this.insertStmt.get(articleId, authorId, body, at, at);
    const row = inserted && this.oneStmt.get({ id: inserted.id, viewer: authorId });
    if (row === undefined) throw new Error("the new comment could not be read back");
    return toComment(row);
  }

  /** The author of comment `id` when it is on that article. */
  authorOf(id: number, articleId: number): number | undefined {
    // Beyond 2^53 a JavaScript number is no longer that id: no such comment was ever written.
    return Number.isSafeInteger(id) ? this.authorStmt.get(id, articleId)?.author_id : undefined;
  }

  delete(id: number): void {
    this.deleteStmt.run(id);
  }
}
