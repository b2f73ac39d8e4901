// The JSON schemas of the tasks API's routes, written by hand from openapi.yaml (draft-07, as Fastify's Ajv reads).
// Shared ones are added with app.addSchema and referenced by $id, as Fastify's docs show.

// The contract's one definition of an email (codegen/twinapi_codegen/formats.py), so valid addresses match it.
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
export const EMAIL_PATTERN = new RegExp(`^${ATOM}(?:\\.${ATOM})*@(?:${LABEL}\\.)*${LABEL}$`);

const email = { type: 'string', format: 'email', maxLength: 254 };
const title = { type: 'string', minLength: 1, maxLength: 200 };
const priority = { type: 'string', enum: ['low', 'normal', 'high'] };
const status = { type: 'string', enum: ['open', 'done'] };

const user = {
  $id: 'User',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'email', 'displayName', 'createdAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    email,
    displayName: { type: 'string', minLength: 1, maxLength: 80 },
    createdAt: { type: 'string', format: 'date-time' },
  },
};

const task = {
  $id: 'Task',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'title', 'notes', 'dueDate', 'priority', 'status', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    title,
    notes: { type: ['string', 'null'], maxLength: 2000 },
    dueDate: { type: ['string', 'null'], format: 'date' },
    priority,
    status,
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

export const shared = [user, task];
export const userRef = { $ref: 'User#' };
export const taskRef = { $ref: 'Task#' };

export const health = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'implementation', 'version'],
  properties: {
    status: { type: 'string', const: 'ok' },
    implementation: { type: 'string', enum: ['python', 'node'] },
    version: { type: 'string' },
  },
};

const password = (minLength) => ({ type: 'string', minLength, maxLength: 72, pattern: '^[^\\u0000]*$' });

export const newUser = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'password', 'displayName'],
  properties: { email, password: password(8), displayName: { type: 'string', minLength: 1, maxLength: 80 } },
};

export const loginRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'password'],
  properties: { email, password: password(1) },
};

export const login = {
  type: 'object',
  additionalProperties: false,
  required: ['accessToken', 'tokenType', 'expiresIn', 'user'],
  properties: {
    accessToken: { type: 'string' },
    tokenType: { type: 'string', const: 'Bearer' },
    expiresIn: { type: 'integer', minimum: 1 },
    user: userRef,
  },
};

export const newTask = {
  type: 'object',
  additionalProperties: false,
  required: ['title'],
  properties: {
    title,
    notes: { type: 'string', maxLength: 2000 },
    dueDate: { type: 'string', format: 'date' },
    priority: { ...priority, default: 'normal' },
  },
};

export const taskPatch = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    title,
    notes: { type: ['string', 'null'], maxLength: 2000 },
    dueDate: { type: ['string', 'null'], format: 'date' },
    priority,
    status,
  },
};

export const taskPage = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'nextCursor'],
  properties: { items: { type: 'array', items: taskRef }, nextCursor: { type: ['string', 'null'] } },
};

export const listQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    cursor: { type: 'string', minLength: 1, maxLength: 200 },
    status,
    q: { type: 'string', maxLength: 100 },
  },
};

export const taskParams = {
  type: 'object',
  required: ['taskId'],
  properties: { taskId: { type: 'string', format: 'uuid' } },
};

export const ifMatchHeaders = {
  type: 'object',
  properties: { 'if-match': { type: 'string', minLength: 1, maxLength: 200 } },
};
