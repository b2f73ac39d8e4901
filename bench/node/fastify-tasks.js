// The whole tasks API written the way Fastify's documentation teaches it, for a like-for-like comparison with
// the Node implementation: JSON schemas on every route (Ajv validation, fast-json-stringify responses),
// @fastify/jwt for the bearer token, a fastify-plugin decorator for the database (better-sqlite3, prepared
// statements), bcrypt's async API (libuv's thread pool). Same schema (db/migrations), same claims (sub, iat, exp,
// HS256), same bcrypt cost (BCRYPT_ROUNDS), same ETags and cursors as the implementations.
// `node fastify-tasks.js`; HOST, PORT, DATABASE_URL, JWT_SECRET, JWT_TTL_SECONDS and BCRYPT_ROUNDS from the env.
//
// Where the contract asks for more than Fastify does by default, its documented extension points are used: a
// validator compiler per HTTP part (bodies are not coerced, query strings are), the contract's email pattern as an
// Ajv format, an error handler and a not-found handler that answer problem+json, and routes answering 405 with
// Allow for the other methods of each path (Fastify answers 404).
import { randomUUID } from 'node:crypto';

import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import bcrypt from 'bcrypt';
import Fastify from 'fastify';

import { HOST, PORT, stopOnSignal } from './common.js';
import database from './tasks/database.js';
import * as s from './tasks/schemas.js';

const SECRET = process.env.JWT_SECRET ?? '';
const TTL_SECONDS = Number(process.env.JWT_TTL_SECONDS ?? 3600);
const ROUNDS = Number(process.env.BCRYPT_ROUNDS ?? 12);
const DATABASE = (process.env.DATABASE_URL ?? 'sqlite:///data/app.db').replace(/^sqlite:\/\/\//, '');
const BODY_LIMIT = 65536;
const NO_TASK = 'No task with this id.';
const STALE = 'The task has changed since it was read.';
const TITLES = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
};

class HttpProblem extends Error {
  constructor(statusCode, detail, headers = {}) {
    super(detail);
    this.statusCode = statusCode;
    this.headers = headers;
  }
}

// Bodies are checked as their JSON Schema says (no coercion, no stripping); query strings, params and headers
// arrive as strings and are coerced, which is what Fastify's default does for them.
function ajvFor(coerceTypes) {
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  addFormats(ajv, ['date', 'uuid']);
  ajv.addFormat('email', s.EMAIL_PATTERN);
  for (const schema of s.shared) ajv.addSchema(schema);
  return ajv;
}
const bodies = ajvFor(false);
const others = ajvFor(true);

const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT });
// The contract takes JSON bodies only: without its default text/plain parser Fastify answers 415 to the rest.
app.removeContentTypeParser('text/plain');
app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodies : others).compile(schema));
for (const schema of s.shared) app.addSchema(schema);

await app.register(import('@fastify/jwt'), {
  secret: SECRET,
  sign: { algorithm: 'HS256', expiresIn: TTL_SECONDS },
  verify: { algorithms: ['HS256'], requiredClaims: ['sub', 'iat', 'exp'] },
});
await app.register(database, { path: DATABASE });

app.decorateRequest('account', null);
app.decorate('authenticate', async (request) => {
  let claims;
  try {
    claims = await request.jwtVerify();
  } catch {
    throw new HttpProblem(401, 'A valid bearer token is required.', { 'www-authenticate': 'Bearer' });
  }
  const account = Number.isInteger(claims.iat) && typeof claims.sub === 'string' ? app.db.userById.get(claims.sub) : undefined;
  if (account === undefined) throw new HttpProblem(401, 'A valid bearer token is required.', { 'www-authenticate': 'Bearer' });
  request.account = account;
});

function problem(reply, request, status, detail, extra = {}) {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail, instance: request.url.split('?')[0], ...extra });
}

app.setErrorHandler((error, request, reply) => {
  if (error.validation) {
    const errors = error.validation.map((e) => ({
      location: `${error.validationContext}${e.instancePath}`.replace(/^querystring/, 'query').replace(/^params/, 'path').replace(/^headers/, 'header'),
      message: e.message ?? 'is invalid',
    }));
    return problem(reply, request, 400, 'The request does not match the contract.', { errors });
  }
  if (error instanceof HttpProblem) {
    reply.headers(error.headers);
    return problem(reply, request, error.statusCode, error.message);
  }
  const status = error.statusCode ?? 500;
  if (status === 400) {
    return problem(reply, request, 400, 'The request body is not valid JSON.', { errors: [{ location: 'body', message: error.message }] });
  }
  if (status === 413) return problem(reply, request, 413, `The request body is larger than ${BODY_LIMIT} bytes.`);
  if (status === 415) return problem(reply, request, 415, 'The request body must be application/json.');
  if (status < 500) return problem(reply, request, status, error.message);
  return problem(reply, request, 500, 'The server could not answer this request.');
});
app.setNotFoundHandler((request, reply) => problem(reply, request, 404, 'No such resource.'));

// Fastify skips body validation when a request has no body: the contract requires one.
async function requireBody(request) {
  if (request.body === undefined) {
    throw new HttpProblem(415, 'The request body must be application/json.');
  }
}

const now = () => new Date().toISOString();
const asciiLower = (text) => text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
const etag = (version) => `"${version}"`;
const toUser = (row) => ({ id: row.id, email: row.email, displayName: row.display_name, createdAt: row.created_at });
const toTask = (row) => ({
  id: row.id,
  title: row.title,
  notes: row.notes,
  dueDate: row.due_date,
  priority: row.priority,
  status: row.status,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const CURSOR = /^v1:([1-9][0-9]*)$/;
const encodeCursor = (seq) => Buffer.from(`v1:${seq}`, 'ascii').toString('base64url');
function decodeCursor(cursor) {
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.toString('base64url') !== cursor) return null;
  const seq = CURSOR.exec(bytes.toString('latin1'))?.[1];
  return seq === undefined || BigInt(seq) >= 2n ** 63n ? null : BigInt(seq);
}

// eslint-disable-next-line no-control-regex
const ENTITY_TAG = /^(W\/)?"([^"\x00-\x20\x7f]*)"$/;
function ifMatchAllows(header, version) {
  if (header === undefined || header.trim() === '*') return true;
  let matched = false;
  for (const item of header.split(',')) {
    const tag = item.replace(/^[ \t]+|[ \t]+$/g, '');
    if (tag === '') continue;
    const parsed = ENTITY_TAG.exec(tag);
    if (parsed === null) return false;
    if (parsed[1] === undefined && parsed[2] === String(version)) matched = true;
  }
  return matched;
}

const dummyHash = await bcrypt.hash('no account has this password', ROUNDS);
const passwordBytes = (password) => Buffer.from(password, 'utf8').subarray(0, 72);
const auth = { onRequest: [app.authenticate] };
const routes = {};
function route(method, url, options, handler) {
  (routes[url] ??= []).push(method);
  app.route({ method, url, ...options, handler });
}

route('GET', '/health', { schema: { response: { 200: s.health } } }, async () => ({ status: 'ok', implementation: 'node', version: '1.0.0' }));

route('POST', '/users', { schema: { body: s.newUser, response: { 201: s.userRef } }, preValidation: requireBody }, async (request, reply) => {
  const { email, password, displayName } = request.body;
  const row = { id: randomUUID(), email, email_key: asciiLower(email), display_name: displayName, created_at: now() };
  row.password_hash = await bcrypt.hash(passwordBytes(password), ROUNDS);
  if (app.db.insertUser.run(row).changes === 0) throw new HttpProblem(409, 'This email is already registered.');
  return reply.code(201).header('location', '/users/me').send(toUser(row));
});

route('POST', '/auth/login', { schema: { body: s.loginRequest, response: { 200: s.login } }, preValidation: requireBody }, async (request) => {
  const { email, password } = request.body;
  const row = app.db.userByEmailKey.get(asciiLower(email));
  // A verify for an unknown email too, so the answer's timing does not tell which emails exist.
  const valid = await bcrypt.compare(passwordBytes(password), row?.password_hash ?? dummyHash);
  if (!valid || row === undefined) throw new HttpProblem(401, 'The email or password is wrong.', { 'www-authenticate': 'Bearer' });
  return { accessToken: app.jwt.sign({ sub: row.id }), tokenType: 'Bearer', expiresIn: TTL_SECONDS, user: toUser(row) };
});

route('GET', '/users/me', { ...auth, schema: { response: { 200: s.userRef } } }, async (request) => toUser(request.account));

route('GET', '/tasks', { ...auth, schema: { querystring: s.listQuery, response: { 200: s.taskPage } } }, async (request) => {
  const { limit, cursor, status, q } = request.query;
  const before = cursor === undefined ? null : decodeCursor(cursor);
  if (before === null && cursor !== undefined) {
    const error = new Error('bad cursor');
    error.validation = [{ instancePath: '/cursor', message: 'is not a cursor this server issued' }];
    error.validationContext = 'querystring';
    throw error;
  }
  const rows = app.db.listTasks.all(request.account.id, before, before, status ?? null, status ?? null, q || null, q || null, q || null, limit + 1);
  const items = rows.slice(0, limit);
  return { items: items.map(toTask), nextCursor: rows.length > limit ? encodeCursor(items.at(-1).seq) : null };
});

route('POST', '/tasks', { ...auth, schema: { body: s.newTask, response: { 201: s.taskRef } }, preValidation: requireBody }, async (request, reply) => {
  const { title, notes = null, dueDate = null, priority } = request.body;
  const stamp = now();
  const row = app.db.insertTask.get(randomUUID(), request.account.id, title, notes, dueDate, priority, stamp, stamp);
  return reply.code(201).header('location', `/tasks/${row.id}`).header('etag', etag(row.version)).send(toTask(row));
});

function ownTask(request) {
  const row = app.db.taskById.get(request.params.taskId.toLowerCase(), request.account.id);
  if (row === undefined) throw new HttpProblem(404, NO_TASK);
  return row;
}

function lostRace(request) {
  return app.db.taskById.get(request.params.taskId.toLowerCase(), request.account.id) === undefined
    ? new HttpProblem(404, NO_TASK)
    : new HttpProblem(412, STALE);
}

route('GET', '/tasks/:taskId', { ...auth, schema: { params: s.taskParams, response: { 200: s.taskRef } } }, async (request, reply) => {
  const row = ownTask(request);
  return reply.header('etag', etag(row.version)).send(toTask(row));
});

route(
  'PATCH',
  '/tasks/:taskId',
  { ...auth, schema: { params: s.taskParams, headers: s.ifMatchHeaders, body: s.taskPatch, response: { 200: s.taskRef } }, preValidation: requireBody },
  async (request, reply) => {
    const current = ownTask(request);
    if (!ifMatchAllows(request.headers['if-match'], current.version)) throw new HttpProblem(412, STALE);
    const patch = request.body;
    const row = app.db.updateTask.get(
      patch.title ?? current.title,
      patch.notes === undefined ? current.notes : patch.notes,
      patch.dueDate === undefined ? current.due_date : patch.dueDate,
      patch.priority ?? current.priority,
      patch.status ?? current.status,
      now(),
      current.id,
      request.account.id,
      current.version,
    );
    if (row === undefined) throw lostRace(request);
    return reply.header('etag', etag(row.version)).send(toTask(row));
  },
);

route('DELETE', '/tasks/:taskId', { ...auth, schema: { params: s.taskParams, headers: s.ifMatchHeaders } }, async (request, reply) => {
  const current = ownTask(request);
  if (!ifMatchAllows(request.headers['if-match'], current.version)) throw new HttpProblem(412, STALE);
  if (app.db.deleteTask.run(current.id, request.account.id, current.version).changes === 0) throw lostRace(request);
  return reply.code(204).send();
});

// Every other method of a known path: 405 with the methods it has (Fastify itself would answer 404, or 400 for
// QUERY, a method it does not route until told).
app.addHttpMethod('QUERY', { hasBody: false }); // only ever answered 405: no body to read
const METHODS = ['DELETE', 'GET', 'PATCH', 'POST', 'PUT', 'OPTIONS', 'TRACE', 'QUERY'];
for (const [url, methods] of Object.entries(routes)) {
  const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : [])].sort().join(', ');
  app.route({
    method: METHODS.filter((m) => !methods.includes(m)),
    url,
    handler: async (request, reply) => {
      reply.header('allow', allow);
      return problem(reply, request, 405, `${request.method} is not allowed here.`);
    },
  });
}

await app.listen({ host: HOST, port: PORT });
stopOnSignal((done) => app.close().then(done));
