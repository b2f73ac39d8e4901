import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import type { FastifyInstance } from "fastify";

import { freeSlug, slugify } from "../../src/app/store/articles.js";
import { type Account, type Body, createArticle, errors, json, register, startApp } from "../helpers.js";

// The official suite's check: fractional seconds required.
const ISO_8601 = /^\d{4,}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d.\d+(?:[+-][0-2]\d:[0-5]\d|Z)$/;

interface List {
  articles: Body[];
  articlesCount: number;
}

describe("slugs", () => {
  it("are the title ASCII-lowercased with each run of other characters one dash", () => {
    assert.equal(slugify("How to train your dragon"), "how-to-train-your-dragon");
    assert.equal(slugify("  C'est l'été, 2026!  "), "c-est-l-t-2026");
    assert.equal(slugify("ÄÖÜ"), "article");
    assert.equal(slugify("---"), "article");
    assert.equal(slugify("İstanbul KELVIN"), "stanbul-kelvin");
    assert.equal(slugify("a🐉b"), "a-b");
  });

  it("take the smallest free number from 2 when taken", () => {
    assert.equal(freeSlug("dragon", new Set()), "dragon");
    assert.equal(freeSlug("dragon", new Set(["dragon"])), "dragon-2");
    assert.equal(freeSlug("dragon", new Set(["dragon", "dragon-2", "dragon-4"])), "dragon-3");
    assert.equal(freeSlug("dragon", new Set(["dragon-2"])), "dragon");
  });
});

describe("articles", () => {
  let app: FastifyInstance;
  before(async () => {
    app = await startApp();
  });
  after(async () => {
    await app.close();
  });

  it("creates an article: 201, its slug, sorted unique tags, timestamps with milliseconds", async () => {
    const author = await register(app, "creator");
    const response = await app.inject({
      method: "POST",
      url: "/articles",
      headers: author.headers,
      payload: { article: { title: "Dragons 101", description: "d", body: "b", tagList: ["training", "dragons", "training"] } },
    });
    assert.equal(response.statusCode, 201);
    const article = json(response)["article"] as Body;
    assert.equal(article["slug"], "dragons-101");
    assert.deepEqual(article["tagList"], ["dragons", "training"]);
    assert.match(String(article["createdAt"]), ISO_8601);
    assert.equal(article["createdAt"], article["updatedAt"]);
    assert.equal(article["favorited"], false);
    assert.equal(article["favoritesCount"], 0);
    assert.deepEqual(article["author"], { username: author.username, bio: "", image: null, following: false });
    const read = json(await app.inject({ method: "GET", url: "/articles/dragons-101" }))["article"] as Body;
    assert.deepEqual(read, article);
  });

  it("numbers the slug of a title already used, and keeps an article without tags at []", async () => {
    const author = await register(app, "repeat");
    const first = await createArticle(app, author, { title: "Same Title" });
    const second = await createArticle(app, author, { title: "same title!" });
    const third = await createArticle(app, author, { title: "Same  title" });
    assert.deepEqual([first["slug"], second["slug"], third["slug"]], ["same-title", "same-title-2", "same-title-3"]);
    assert.deepEqual(first["tagList"], []);
  });

  it("lets only the author update; a new title a new slug, the fields not sent kept", async () => {
    const author = await register(app, "editor");
    const other = await register(app, "intruder");
    const created = await createArticle(app, author, { title: "Before", tagList: ["t"] });
    const url = `/articles/${String(created["slug"])}`;
    const refused = await app.inject({ method: "PUT", url, headers: other.headers, payload: { article: { body: "hacked" } } });
    assert.equal(refused.statusCode, 403);
    assert.deepEqual(json(refused), errors("only the author may change this article"));
    const body = await app.inject({ method: "PUT", url, headers: author.headers, payload: { article: { body: "With two hands" } } });
    assert.equal(body.statusCode, 200);
    const changed = json(body)["article"] as Body;
    assert.equal(changed["slug"], "before");
    assert.equal(changed["body"], "With two hands");
    assert.equal(changed["title"], "Before");
    assert.deepEqual(changed["tagList"], ["t"]);
    assert.ok(String(changed["updatedAt"]) >= String(created["updatedAt"]));
    const retitled = json(await app.inject({ method: "PUT", url, headers: author.headers, payload: { article: { title: "After" } } }))[
      "article"
    ] as Body;
    assert.equal(retitled["slug"], "after");
    assert.equal((await app.inject({ method: "GET", url })).statusCode, 404);
    // The same title again keeps the slug, not `after-2`.
    const same = json(
      await app.inject({ method: "PUT", url: "/articles/after", headers: author.headers, payload: { article: { title: "After" } } }),
    )["article"] as Body;
    assert.equal(same["slug"], "after");
  });

  it("lets only the author delete, with its comments, favourites and tag links", async () => {
    const author = await register(app, "deleter");
    const other = await register(app, "bystander");
    const created = await createArticle(app, author, { title: "Doomed", tagList: ["doomed-tag"] });
    const url = `/articles/${String(created["slug"])}`;
    await app.inject({ method: "POST", url: `${url}/favorite`, headers: other.headers });
    await app.inject({ method: "POST", url: `${url}/comments`, headers: other.headers, payload: { comment: { body: "bye" } } });
    const refused = await app.inject({ method: "DELETE", url, headers: other.headers });
    assert.equal(refused.statusCode, 403);
    assert.deepEqual(json(refused), errors("only the author may change this article"));
    const deleted = await app.inject({ method: "DELETE", url, headers: author.headers });
    assert.equal(deleted.statusCode, 204);
    assert.equal(deleted.body, "");
    assert.equal((await app.inject({ method: "GET", url })).statusCode, 404);
    const left = await app.db.read((q) =>
      q.get<{ n: number }>(
        `SELECT (SELECT COUNT(*) FROM comments) + (SELECT COUNT(*) FROM favorites f JOIN users u ON u.id = f.user_id WHERE u.username = :username)
           + (SELECT COUNT(*) FROM article_tags at JOIN tags t ON t.id = at.tag_id WHERE t.name = 'doomed-tag') AS n`,
        { username: other.username },
      ),
    );
    assert.equal(left?.n, 0);
    // The tag itself stays.
    const tags = json(await app.inject({ method: "GET", url: "/tags" }))["tags"] as string[];
    assert.ok(tags.includes("doomed-tag"));
  });

  it("answers 404 for an unknown slug on every article operation", async () => {
    const me = await register(app, "lost");
    for (const [method, url, payload] of [
      ["GET", "/articles/nope", undefined],
      ["PUT", "/articles/nope", { article: { body: "x" } }],
      ["DELETE", "/articles/nope", undefined],
      ["POST", "/articles/nope/favorite", undefined],
      ["DELETE", "/articles/nope/favorite", undefined],
    ] as const) {
      const response = await app.inject({ method, url, headers: me.headers, ...(payload ? { payload } : {}) });
      assert.equal(response.statusCode, 404, `${method} ${url}`);
      assert.deepEqual(json(response), errors("article not found"));
    }
  });

  it("favourites and unfavourites idempotently; counts all users, favorited for the caller", async () => {
    const author = await register(app, "liked");
    const fan = await register(app, "fanatic");
    const created = await createArticle(app, author, { title: "Likeable" });
    const url = `/articles/${String(created["slug"])}/favorite`;
    for (let i = 0; i < 2; i++) {
      const article = json(await app.inject({ method: "POST", url, headers: fan.headers }))["article"] as Body;
      assert.equal(article["favorited"], true);
      assert.equal(article["favoritesCount"], 1);
    }
    const byAuthor = json(await app.inject({ method: "POST", url, headers: author.headers }))["article"] as Body;
    assert.equal(byAuthor["favoritesCount"], 2);
    const anonymous = json(await app.inject({ method: "GET", url: `/articles/${String(created["slug"])}` }))["article"] as Body;
    assert.equal(anonymous["favorited"], false);
    assert.equal(anonymous["favoritesCount"], 2);
    for (let i = 0; i < 2; i++) {
      const article = json(await app.inject({ method: "DELETE", url, headers: fan.headers }))["article"] as Body;
      assert.equal(article["favorited"], false);
      assert.equal(article["favoritesCount"], 1);
    }
  });

  it("refuses NUL in what is stored (422), and a path holding one names nothing (404), on either database", async () => {
    // PostgreSQL's text cannot hold NUL, which SQLite stores: both engines answer alike.
    const me = await register(app, "nul");
    for (const article of [
      { title: "t", description: "d", body: "b\0", tagList: ["x"] },
      { title: "t", description: "d", body: "b", tagList: ["x\0"] },
    ]) {
      const response = await app.inject({ method: "POST", url: "/articles", headers: me.headers, payload: { article } });
      assert.equal(response.statusCode, 422, response.body);
    }
    const user = { username: "a\0b", email: "ab@example.com", password: "ab-password" };
    assert.equal((await app.inject({ method: "POST", url: "/users", payload: { user } })).statusCode, 422);
    assert.equal((await app.inject({ method: "GET", url: "/articles?tag=a%00b" })).statusCode, 422);
    const article = await app.inject({ method: "GET", url: "/articles/a%00b" });
    assert.deepEqual([article.statusCode, json(article)], [404, errors("article not found")]);
    const profile = await app.inject({ method: "GET", url: "/profiles/a%00b" });
    assert.deepEqual([profile.statusCode, json(profile)], [404, errors("profile not found")]);
  });

  it("needs a token to write", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/articles",
      payload: { article: { title: "t", description: "d", body: "b" } },
    });
    assert.equal(response.statusCode, 401);
    const bad = await app.inject({ method: "GET", url: "/articles", headers: { authorization: "Token nope" } });
    assert.equal(bad.statusCode, 401);
  });
});

describe("article lists", () => {
  let app: FastifyInstance;
  let alice: Account;
  let bob: Account;
  let carol: Account;
  before(async () => {
    app = await startApp();
    alice = await register(app, "alice");
    bob = await register(app, "bob");
    carol = await register(app, "carol");
    // Oldest first: a1 (alice, [x, y]), b1 (bob, [y]), a2 (alice, []), b2 (bob, [x]).
    await createArticle(app, alice, { title: "a1", tagList: ["y", "x"] });
    await createArticle(app, bob, { title: "b1", tagList: ["y"] });
    await createArticle(app, alice, { title: "a2" });
    await createArticle(app, bob, { title: "b2", tagList: ["x"] });
    await app.inject({ method: "POST", url: "/articles/a1/favorite", headers: carol.headers });
    await app.inject({ method: "POST", url: "/articles/b2/favorite", headers: carol.headers });
    await app.inject({ method: "POST", url: `/profiles/${bob.username}/follow`, headers: carol.headers });
  });
  after(async () => {
    await app.close();
  });

  const get = async (url: string, account?: Account): Promise<List> => {
    const response = await app.inject({ method: "GET", url, ...(account ? { headers: account.headers } : {}) });
    assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
    return json(response) as unknown as List;
  };
  const slugs = (found: List): unknown[] => found.articles.map((article) => article["slug"]);

  it("lists newest first without bodies, every article's fields as the suite checks them", async () => {
    const found = await get("/articles");
    assert.deepEqual(slugs(found), ["b2", "a2", "b1", "a1"]);
    assert.equal(found.articlesCount, 4);
    for (const article of found.articles) {
      assert.equal("body" in article, false);
      assert.match(String(article["createdAt"]), ISO_8601);
      assert.match(String(article["updatedAt"]), ISO_8601);
      assert.ok(Number.isInteger(article["favoritesCount"]));
    }
    assert.deepEqual(found.articles[3]?.["tagList"], ["x", "y"]);
  });

  it("filters by tag, author and favoriting user, combined with AND; unknown names match nothing", async () => {
    assert.deepEqual(slugs(await get("/articles?tag=x")), ["b2", "a1"]);
    assert.deepEqual(slugs(await get(`/articles?author=${alice.username}`)), ["a2", "a1"]);
    assert.deepEqual(slugs(await get(`/articles?favorited=${carol.username}`)), ["b2", "a1"]);
    assert.deepEqual(slugs(await get(`/articles?favorited=${carol.username}&author=${bob.username}`)), ["b2"]);
    assert.deepEqual(slugs(await get(`/articles?tag=y&author=${bob.username}`)), ["b1"]);
    for (const query of ["tag=nope", "author=johnjacob", "favorited=nobody"]) {
      assert.deepEqual(await get(`/articles?${query}`), { articles: [], articlesCount: 0 });
    }
  });

  it("pages with offset and limit; the count is of all matches", async () => {
    const page = await get("/articles?offset=1&limit=2");
    assert.deepEqual(slugs(page), ["a2", "b1"]);
    assert.equal(page.articlesCount, 4);
    assert.deepEqual(slugs(await get("/articles?offset=4")), []);
    assert.deepEqual(slugs(await get("/articles?limit=99999999999999999999&offset=99999999999999999999")), []);
    assert.equal((await get("/articles?limit=99999999999999999999")).articles.length, 4);
    const refused = await app.inject({ method: "GET", url: "/articles?limit=0" });
    assert.equal(refused.statusCode, 422);
  });

  it("says favorited and following for the caller", async () => {
    const seen = await get("/articles", carol);
    const bySlug = new Map(seen.articles.map((article) => [article["slug"], article]));
    assert.equal(bySlug.get("a1")?.["favorited"], true);
    assert.equal(bySlug.get("a2")?.["favorited"], false);
    assert.equal((bySlug.get("b1")?.["author"] as Body)["following"], true);
    assert.equal((bySlug.get("a1")?.["author"] as Body)["following"], false);
  });

  it("feeds the articles of the users followed, newest first, and needs a token", async () => {
    const feed = await get("/articles/feed", carol);
    assert.deepEqual(slugs(feed), ["b2", "b1"]);
    assert.equal(feed.articlesCount, 2);
    assert.equal(
      feed.articles.every((article) => (article["author"] as Body)["following"] === true),
      true,
    );
    assert.deepEqual(slugs(await get("/articles/feed?limit=1&offset=1", carol)), ["b1"]);
    assert.deepEqual(await get("/articles/feed", alice), { articles: [], articlesCount: 0 });
    assert.equal((await app.inject({ method: "GET", url: "/articles/feed" })).statusCode, 401);
  });

  it("lists every tag once, sorted", async () => {
    const tags = json(await app.inject({ method: "GET", url: "/tags" }))["tags"] as string[];
    assert.deepEqual(tags, ["x", "y"]);
  });
});
