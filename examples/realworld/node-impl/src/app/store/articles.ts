/** Articles, their tags and favourites: slugs, lists, the feed and counts as CONVENTIONS.md fixes them. */
import type { components } from "../../generated/schema.js";
import { type Queries, now } from "../db.js";
import { toProfile } from "./profiles.js";

export type Article = components["schemas"]["Article"];
/** A list's article: everything but the body. */
export type ArticleItem = components["responses"]["MultipleArticlesResponse"]["content"]["application/json"]["articles"][number];

export interface ArticleRow {
  id: number;
  author_id: number;
  slug: string;
  title: string;
  description: string;
  body: string;
  created_at: string;
  updated_at: string;
  /** SQLite's 0 or 1, PostgreSQL's boolean, as `following`. */
  favorited: number | boolean;
  favorites_count: number;
  username: string;
  bio: string;
  image: string | null;
  following: number | boolean;
}

export interface NewArticle {
  title: string;
  description: string;
  body: string;
  tagList: readonly string[];
}

export interface ArticleChanges {
  title?: string;
  description?: string;
  body?: string;
}

export interface ListFilter {
  tag: string | null;
  author: string | null;
  favorited: string | null;
}

export interface Page {
  offset: number;
  limit: number;
}

/** LIMIT and OFFSET past what a database can hold change nothing, and larger numbers cannot be bound. */
const MAX_ROWS = Number.MAX_SAFE_INTEGER;

/** The title ASCII-lowercased, each run of other characters than a-z and 0-9 one `-`, none at either end. */
export function slugify(title: string): string {
  const slug = title
    .replace(/[A-Z]+/g, (letters) => letters.toLowerCase())
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  return slug === "" ? "article" : slug;
}

/** The slug, or `slug-N` with the smallest N from 2 that no other article has. */
export function freeSlug(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  // Among taken.size + 1 candidates one is free.
  for (let n = 2; n <= taken.size + 2; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
  throw new Error("unreachable: more taken slugs than there are");
}

/** The tags in the order given, each once (the first kept). */
function uniqueTags(tags: readonly string[]): string[] {
  return [...new Set(tags)];
}

/** Code-point order, as SQLite's BINARY collation and PostgreSQL's "C" sort (not UTF-16 order, as `<` on strings). */
function byCodePoint(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

// The caller is :viewer (NULL without one): favorited and following are for them.
const ARTICLE_SELECT = `
  SELECT a.id, a.author_id, a.slug, a.title, a.description, a.body, a.created_at, a.updated_at,
         EXISTS (SELECT 1 FROM favorites f WHERE f.article_id = a.id AND f.user_id = :viewer) AS favorited,
         (SELECT COUNT(*) FROM favorites f WHERE f.article_id = a.id) AS favorites_count,
         u.username, COALESCE(u.bio, '') AS bio, u.image,
         EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = :viewer AND fo.followed_id = a.author_id) AS following
  FROM articles a JOIN users u ON u.id = a.author_id`;

/** The filters given, combined with AND: fixed texts only, the values travel as parameters. */
function listWhere(filter: ListFilter): string {
  const conditions: string[] = [];
  if (filter.tag !== null) {
    conditions.push("EXISTS (SELECT 1 FROM article_tags at JOIN tags t ON t.id = at.tag_id WHERE at.article_id = a.id AND t.name = :tag)");
  }
  if (filter.author !== null) conditions.push("u.username = :author");
  if (filter.favorited !== null) {
    conditions.push(
      "EXISTS (SELECT 1 FROM favorites f JOIN users fu ON fu.id = f.user_id WHERE f.article_id = a.id AND fu.username = :favorited)",
    );
  }
  return conditions.length > 0 ? ` WHERE ${conditions.join(" AND ")}` : "";
}

/** The values of the filters given: those not given name no parameter in the statement. */
function filterParams(filter: ListFilter): Record<string, string> {
  return Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== null));
}

const FEED_WHERE = " WHERE a.author_id IN (SELECT followed_id FROM follows WHERE follower_id = :viewer)";

const NEWEST_FIRST = " ORDER BY a.created_at DESC, a.id DESC LIMIT :limit OFFSET :offset";

// The ids of a page as one parameter, however many: a JSON array for SQLite, an array for PostgreSQL.
const AMONG_IDS = {
  sqlite: "at.article_id IN (SELECT value FROM json_each(:ids))",
  postgresql: "at.article_id = ANY(:ids)",
} as const;

/** Each article's tags, sorted by name in code-point order (SQLite's BINARY, PostgreSQL's "C" on tags.name). */
async function tagsOf(q: Queries, ids: readonly number[]): Promise<Map<number, string[]>> {
  const tags = new Map<number, string[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return tags;
  const rows = await q.all<{ article_id: number; name: string }>(
    `SELECT at.article_id, t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id
     WHERE ${AMONG_IDS[q.dialect]} ORDER BY at.article_id, t.name`,
    { ids: q.dialect === "sqlite" ? JSON.stringify(ids) : ids },
  );
  for (const { article_id, name } of rows) tags.get(article_id)?.push(name);
  return tags;
}

/** The article with its body and tags, as `viewer` (null: anonymous) sees it. */
export async function bySlug(q: Queries, slug: string, viewer: number | null): Promise<ArticleRow | undefined> {
  // No slug holds NUL, and PostgreSQL could not even compare one that does.
  if (slug.includes("\0")) return undefined;
  return q.get<ArticleRow>(`${ARTICLE_SELECT} WHERE a.slug = :slug`, { slug, viewer });
}

/** The article as the single-article answers show it, with its tags. */
export async function article(q: Queries, row: ArticleRow): Promise<Article> {
  const tags = await tagsOf(q, [row.id]);
  return { ...item(row, tags), body: row.body };
}

function item(row: ArticleRow, tags: ReadonlyMap<number, string[]>): ArticleItem {
  return {
    slug: row.slug,
    title: row.title,
    description: row.description,
    tagList: tags.get(row.id) ?? [],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    favorited: Boolean(row.favorited),
    favoritesCount: row.favorites_count,
    author: toProfile(row),
  };
}

async function items(q: Queries, rows: readonly ArticleRow[]): Promise<ArticleItem[]> {
  const tags = await tagsOf(
    q,
    rows.map((row) => row.id),
  );
  return rows.map((row) => item(row, tags));
}

function bounded(page: Page): Page {
  return { offset: Math.min(page.offset, MAX_ROWS), limit: Math.min(page.limit, MAX_ROWS) };
}

/** One page of the articles matching every filter given, newest first, and how many match in all. */
export async function list(
  q: Queries,
  filter: ListFilter,
  viewer: number | null,
  page: Page,
): Promise<{ articles: ArticleItem[]; articlesCount: number }> {
  const where = listWhere(filter);
  const rows = await q.all<ArticleRow>(`${ARTICLE_SELECT}${where}${NEWEST_FIRST}`, { ...filterParams(filter), ...bounded(page), viewer });
  const counted = await q.get<{ count: number }>(
    `SELECT COUNT(*) AS count FROM articles a JOIN users u ON u.id = a.author_id${where}`,
    filterParams(filter),
  );
  return { articles: await items(q, rows), articlesCount: counted?.count ?? 0 };
}

/** One page of the articles of the users `viewer` follows, newest first, and how many there are in all. */
export async function feed(q: Queries, viewer: number, page: Page): Promise<{ articles: ArticleItem[]; articlesCount: number }> {
  const rows = await q.all<ArticleRow>(`${ARTICLE_SELECT}${FEED_WHERE}${NEWEST_FIRST}`, { ...bounded(page), viewer });
  const counted = await q.get<{ count: number }>(`SELECT COUNT(*) AS count FROM articles a${FEED_WHERE}`, { viewer });
  return { articles: await items(q, rows), articlesCount: counted?.count ?? 0 };
}

/** The title's slug, free among the articles other than `id`. */
async function slugFor(q: Queries, title: string, id: number | null): Promise<string> {
  const base = slugify(title);
  const prefix = `${base}-`;
  const rows = await q.all<{ slug: string }>(
    `SELECT slug FROM articles WHERE (slug = :base OR substr(slug, 1, :length) = :prefix)
       AND (CAST(:id AS BIGINT) IS NULL OR id <> :id)`,
    { base, prefix, length: prefix.length, id },
  );
  return freeSlug(base, new Set(rows.map((row) => row.slug)));
}

/** Stores the article and links its tags (each tag stored once by name); its slug. */
export async function create(q: Queries, authorId: number, input: NewArticle): Promise<string> {
  const slug = await slugFor(q, input.title, null);
  const at = now();
  const inserted = await q.get<{ id: number }>(
    `INSERT INTO articles (slug, title, description, body, author_id, created_at, updated_at)
     VALUES (:slug, :title, :description, :body, :author, :at, :at) RETURNING id`,
    { slug, title: input.title, description: input.description, body: input.body, author: authorId, at },
  );
  if (inserted === undefined) throw new Error("INSERT ... RETURNING returned no row");
  // Tags in name order: two concurrent writers on PostgreSQL then wait for each other's new tags in one order, never
  // in a cycle. position still keeps the author's order.
  const tags = uniqueTags(input.tagList).map((name, position) => ({ name, position }));
  for (const { name, position } of tags.sort((a, b) => byCodePoint(a.name, b.name))) {
    await q.run("INSERT INTO tags (name) VALUES (:name) ON CONFLICT (name) DO NOTHING", { name });
    await q.run("INSERT INTO article_tags (article_id, tag_id, position) SELECT :article, id, :position FROM tags WHERE name = :name", {
      article: inserted.id,
      position,
      name,
    });
  }
  return slug;
}

/** The fields PUT /articles/{slug} may change, and their columns: nothing else reaches the SQL text. */
const CHANGEABLE: Readonly<Record<keyof ArticleChanges, string>> = { title: "title", description: "description", body: "body" };

/** Sets the fields given and the update time; a title that differs from the stored one a new slug. The slug after. */
export async function update(q: Queries, row: ArticleRow, changes: ArticleChanges): Promise<string> {
  const retitled = changes.title !== undefined && changes.title !== row.title;
  const slug = retitled ? await slugFor(q, changes.title ?? row.title, row.id) : row.slug;
  const params: Record<string, unknown> = { id: row.id, at: now(), slug };
  const assignments = ["updated_at = :at", "slug = :slug"];
  for (const [field, column] of Object.entries(CHANGEABLE) as [keyof ArticleChanges, string][]) {
    if (changes[field] === undefined) continue;
    assignments.push(`${column} = :${field}`);
    params[field] = changes[field];
  }
  await q.run(`UPDATE articles SET ${assignments.join(", ")} WHERE id = :id`, params);
  return slug;
}

/**
 * Deletes the article, and with it its comments, favourites and tag links (every foreign key on articles is ON
 * DELETE CASCADE; SQLite enforces them with foreign_keys=ON, db.ts); its tags stay.
 */
export async function remove(q: Queries, id: number): Promise<void> {
  await q.run("DELETE FROM articles WHERE id = :id", { id });
}

/** Idempotent: a second favourite changes nothing. */
export async function favorite(q: Queries, userId: number, articleId: number): Promise<void> {
  await q.run("INSERT INTO favorites (user_id, article_id) VALUES (:user, :article) ON CONFLICT DO NOTHING", {
    user: userId,
    article: articleId,
  });
}

export async function unfavorite(q: Queries, userId: number, articleId: number): Promise<void> {
  await q.run("DELETE FROM favorites WHERE user_id = :user AND article_id = :article", { user: userId, article: articleId });
}

/** Every tag stored, sorted by name. */
export async function allTags(q: Queries): Promise<string[]> {
  return (await q.all<{ name: string }>("SELECT name FROM tags ORDER BY name")).map((row) => row.name);
}
