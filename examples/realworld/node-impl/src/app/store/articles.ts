/** Articles, their tags and favourites: slugs, lists, the feed and counts as CONVENTIONS.md fixes them. */
import type { Statement } from "better-sqlite3";

import type { components } from "../../generated/schema.js";
import type { Db } from "../db.js";
import { toProfile } from "./profiles.js";
import { now } from "./time.js";

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
  favorited: number;
  favorites_count: number;
  username: string;
  bio: string;
  image: string | null;
  following: number;
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

// The caller is @viewer (NULL without one): favorited and following are for them.
const ARTICLE_SELECT = `
  SELECT a.id, a.author_id, a.slug, a.title, a.description, a.body, a.created_at, a.updated_at,
         EXISTS (SELECT 1 FROM favorites f WHERE f.article_id = a.id AND f.user_id = @viewer) AS favorited,
         (SELECT COUNT(*) FROM favorites f WHERE f.article_id = a.id) AS favorites_count,
         u.username, COALESCE(u.bio, '') AS bio, u.image,
         EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = @viewer AND fo.followed_id = a.author_id) AS following
  FROM articles a JOIN users u ON u.id = a.author_id`;

// Filters combine with AND; a NULL one does not filter.
const LIST_WHERE = `
  WHERE (@tag IS NULL OR EXISTS (SELECT 1 FROM article_tags at JOIN tags t ON t.id = at.tag_id
                                 WHERE at.article_id = a.id AND t.name = @tag))
    AND (@author IS NULL OR u.username = @author)
    AND (@favorited IS NULL OR EXISTS (SELECT 1 FROM favorites f JOIN users fu ON fu.id = f.user_id
                                       WHERE f.article_id = a.id AND fu.username = @favorited))`;

const FEED_WHERE = `
  WHERE a.author_id IN (SELECT followed_id FROM follows WHERE follower_id = @viewer)`;

const NEWEST_FIRST = "ORDER BY a.created_at DESC, a.id DESC LIMIT @limit OFFSET @offset";

type ListParams = ListFilter & Page & { viewer: number | null };
type FeedParams = Page & { viewer: number };

export class Articles {
  private readonly bySlugStmt: Statement<{ slug: string; viewer: number | null }, ArticleRow>;
  private readonly listStmt: Statement<ListParams, ArticleRow>;
  private readonly countStmt: Statement<ListFilter & { viewer: number | null }, { count: number }>;
  private readonly feedStmt: Statement<FeedParams, ArticleRow>;
  private readonly feedCountStmt: Statement<{ viewer: number }, { count: number }>;
  private readonly tagsOfStmt: Statement<[string], { article_id: number; name: string }>;
  private readonly slugsStmt: Statement<{ base: string; pattern: string; id: number | null }, { slug: string }>;
  private readonly insertStmt: Statement<[string, string, string, string, number, string, string], { id: number }>;
  private readonly insertTagStmt: Statement<[string]>;
  private readonly tagIdStmt: Statement<[string], { id: number }>;
  private readonly linkTagStmt: Statement<[number, number, number]>;
  private readonly updateStmt: Statement<Record<string, string | number | null>>;
  private readonly deleteStmt: Statement<[number]>;
  private readonly favoriteStmt: Statement<[number, number]>;
  private readonly unfavoriteStmt: Statement<[number, number]>;
  private readonly allTagsStmt: Statement<[], { name: string }>;

  constructor(private readonly db: Db) {
    this.bySlugStmt = db.prepare(`${ARTICLE_SELECT} WHERE a.slug = @slug`);
    this.listStmt = db.prepare(`${ARTICLE_SELECT} ${LIST_WHERE} ${NEWEST_FIRST}`);
    this.countStmt = db.prepare(`SELECT COUNT(*) AS count FROM articles a JOIN users u ON u.id = a.author_id ${LIST_WHERE}`);
    this.feedStmt = db.prepare(`${ARTICLE_SELECT} ${FEED_WHERE} ${NEWEST_FIRST}`);
    this.feedCountStmt = db.prepare(`SELECT COUNT(*) AS count FROM articles a ${FEED_WHERE}`);
    // The page's tags in one query (the ids as a JSON array), sorted by name: SQLite's BINARY, code-point order.
    this.tagsOfStmt = db.prepare(
      `SELECT at.article_id, t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id
       WHERE at.article_id IN (SELECT value FROM json_each(?)) ORDER BY t.name`,
    );
    // The slug and its numbered forms held by other articles than @id. The base holds only a-z, 0-9 and `-`, none
    // of them special to LIKE.
    this.slugsStmt = db.prepare("SELECT slug FROM articles WHERE (slug = @base OR slug LIKE @pattern) AND id IS NOT @id");
    this.insertStmt = db.prepare(
      `INSERT INTO articles (slug, title, description, body, author_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    );
    this.insertTagStmt = db.prepare("INSERT INTO tags (name) VALUES (?) ON CONFLICT (name) DO NOTHING");
    this.tagIdStmt = db.prepare("SELECT id FROM tags WHERE name = ?");
    this.linkTagStmt = db.prepare("INSERT INTO article_tags (article_id, tag_id, position) VALUES (?, ?, ?)");
    this.updateStmt = db.prepare(
      `UPDATE articles SET
         slug = @slug,
         title = CASE WHEN @setTitle THEN @title ELSE title END,
         description = CASE WHEN @setDescription THEN @description ELSE description END,
         body = CASE WHEN @setBody THEN @body ELSE body END,
         updated_at = @now
       WHERE id = @id`,
    );
    // Its comments, favourites and tag links go with it: every foreign key on articles is ON DELETE CASCADE, and
    // db.ts turns foreign_keys on for the one connection (as Python's store/articles.py relies on too).
    this.deleteStmt = db.prepare<[number]>("DELETE FROM articles WHERE id = ?");
    this.favoriteStmt = db.prepare("INSERT INTO favorites (user_id, article_id) VALUES (?, ?) ON CONFLICT DO NOTHING");
    this.unfavoriteStmt = db.prepare("DELETE FROM favorites WHERE user_id = ? AND article_id = ?");
    this.allTagsStmt = db.prepare("SELECT name FROM tags ORDER BY name");
  }

  bySlug(slug: string, viewer: number | null): ArticleRow | undefined {
    return this.bySlugStmt.get({ slug, viewer });
  }

  /** The article as the single-article answers show it, with its tags. */
  article(row: ArticleRow): Article {
    const tags = this.tagsOf([row.id]).get(row.id) ?? [];
    return {
      slug: row.slug,
      title: row.title,
      description: row.description,
      body: row.body,
      tagList: tags,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      favorited: row.favorited === 1,
      favoritesCount: row.favorites_count,
      author: toProfile(row),
    };
  }

  /** One page of the articles matching every filter given, newest first, and how many match in all. */
  list(filter: ListFilter, viewer: number | null, page: Page): { articles: ArticleItem[]; articlesCount: number } {
    const read = this.db.transaction(() => {
      const rows = this.listStmt.all({ ...filter, ...bounded(page), viewer });
      const count = this.countStmt.get({ ...filter, viewer })?.count ?? 0;
      return { articles: this.items(rows), articlesCount: count };
    });
    // One read transaction: the page and the count see the same rows.
    return read();
  }

  /** One page of the articles of the users `viewer` follows, newest first, and how many there are in all. */
  feed(viewer: number, page: Page): { articles: ArticleItem[]; articlesCount: number } {
    const read = this.db.transaction(() => {
      const rows = this.feedStmt.all({ ...bounded(page), viewer });
      const count = this.feedCountStmt.get({ viewer })?.count ?? 0;
      return { articles: this.items(rows), articlesCount: count };
    });
    return read();
  }

  /** Creates the article with its tags in one transaction; its slug. */
  create(authorId: number, article: NewArticle): string {
    const run = this.db.transaction(() => {
      const slug = this.slugFor(article.title, null);
      const at = now();
      const inserted = this.insertStmt.get(slug, article.title, article.description, article.body, authorId, at, at);
      if (inserted === undefined) throw new Error("INSERT ... RETURNING returned no row");
      for (const [position, name] of uniqueTags(article.tagList).entries()) {
        this.insertTagStmt.run(name);
        const tag = this.tagIdStmt.get(name);
        if (tag === undefined) throw new Error(`tag ${JSON.stringify(name)} disappeared during its insert`);
        this.linkTagStmt.run(inserted.id, tag.id, position);
      }
      return slug;
    });
    // IMMEDIATE: the free slug is chosen and taken under one write lock, against the other server too.
    return run.immediate();
  }

  /** Changes the fields given (a new title a new slug) and the update time; the article's slug afterwards. */
  update(row: ArticleRow, changes: ArticleChanges): string {
    const run = this.db.transaction(() => {
      const retitled = changes.title !== undefined && changes.title !== row.title;
      const slug = retitled ? this.slugFor(changes.title ?? row.title, row.id) : row.slug;
      this.updateStmt.run({
        id: row.id,
        slug,
        now: now(),
        setTitle: Number(changes.title !== undefined),
        title: changes.title ?? null,
        setDescription: Number(changes.description !== undefined),
        description: changes.description ?? null,
        setBody: Number(changes.body !== undefined),
        body: changes.body ?? null,
      });
      return slug;
    });
    return run.immediate();
  }

  /** Deletes the article, and with it (ON DELETE CASCADE) its comments, favourites and tag links; its tags stay. */
  delete(id: number): void {
    this.deleteStmt.run(id);
  }

  favorite(userId: number, articleId: number): void {
    this.favoriteStmt.run(userId, articleId);
  }

  unfavorite(userId: number, articleId: number): void {
    this.unfavoriteStmt.run(userId, articleId);
  }

  /** Every tag stored, sorted by name. */
  tags(): string[] {
    return this.allTagsStmt.all().map((row) => row.name);
  }

  private items(rows: readonly ArticleRow[]): ArticleItem[] {
    const tags = this.tagsOf(rows.map((row) => row.id));
    return rows.map((row) => ({
      slug: row.slug,
      title: row.title,
      description: row.description,
      tagList: tags.get(row.id) ?? [],
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      favorited: row.favorited === 1,
      favoritesCount: row.favorites_count,
      author: toProfile(row),
    }));
  }

  private tagsOf(ids: readonly number[]): Map<number, string[]> {
    const tags = new Map<number, string[]>();
    if (ids.length === 0) return tags;
    for (const { article_id, name } of this.tagsOfStmt.all(JSON.stringify(ids))) {
      const list = tags.get(article_id);
      if (list === undefined) tags.set(article_id, [name]);
      else list.push(name);
    }
    return tags;
  }

  private slugFor(title: string, id: number | null): string {
    const base = slugify(title);
    const taken = new Set(this.slugsStmt.all({ base, pattern: `${base}-%`, id }).map((row) => row.slug));
    return freeSlug(base, taken);
  }
}

function bounded(page: Page): Page {
  return { offset: Math.min(page.offset, MAX_ROWS), limit: Math.min(page.limit, MAX_ROWS) };
}
