/** Comments on an article, oldest first; each with its author's profile as the caller sees it. */
import type { components } from "../../generated/schema.js";
import { type Queries, now } from "../db.js";
import { toProfile } from "./profiles.js";

export type Comment = components["schemas"]["Comment"];

interface CommentRow {
  id: number;
  body: string;
  created_at: string;
  updated_at: string;
  username: string;
  bio: string;
  image: string | null;
  following: number | boolean;
}

const COMMENT_SELECT = `
  SELECT c.id, c.body, c.created_at, c.updated_at, u.username, COALESCE(u.bio, '') AS bio, u.image,
         EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = :viewer AND fo.followed_id = c.author_id) AS following
  FROM comments c JOIN users u ON u.id = c.author_id`;

function toComment(row: CommentRow): Comment {
  return { id: row.id, createdAt: row.created_at, updatedAt: row.updated_at, body: row.body, author: toProfile(row) };
}

export async function ofArticle(q: Queries, articleId: number, viewer: number | null): Promise<Comment[]> {
  const rows = await q.all<CommentRow>(`${COMMENT_SELECT} WHERE c.article_id = :article ORDER BY c.id`, { article: articleId, viewer });
  return rows.map(toComment);
}

export async function create(q: Queries, articleId: number, authorId: number, body: string): Promise<Comment> {
  const at = now();
  const inserted = await q.get<{ id: number }>(
    `INSERT INTO comments (article_id, author_id, body, created_at, updated_at)
     VALUES (:article, :author, :body, :at, :at) RETURNING id`,
    { article: articleId, author: authorId, body, at },
  );
  const row = inserted && (await q.get<CommentRow>(`${COMMENT_SELECT} WHERE c.id = :id`, { id: inserted.id, viewer: authorId }));
  if (row === undefined) throw new Error("the new comment could not be read back");
  return toComment(row);
}

/** The author of comment `id` when it is on that article. */
export async function authorOf(q: Queries, id: number, articleId: number): Promise<number | undefined> {
  // Beyond 2^53 a JavaScript number is no longer that id: no such comment was ever written.
  if (!Number.isSafeInteger(id)) return undefined;
  const row = await q.get<{ author_id: number }>("SELECT author_id FROM comments WHERE id = :id AND article_id = :article", {
    id,
    article: articleId,
  });
  return row?.author_id;
}

export async function remove(q: Queries, id: number): Promise<void> {
  await q.run("DELETE FROM comments WHERE id = :id", { id });
}
