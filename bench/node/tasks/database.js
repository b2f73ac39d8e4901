// The database as a Fastify plugin: one better-sqlite3 connection with the implementations' pragmas, the shared
// migrations applied at start, and the API's statements prepared once, decorated as `fastify.db`.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';
import fp from 'fastify-plugin';

const MIGRATIONS = fileURLToPath(new URL('../../../db/migrations/', import.meta.url));
const TASK_COLUMNS = 'seq, id, title, notes, due_date, priority, status, version, created_at, updated_at';

function migrate(db) {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?');
  const record = db.prepare('INSERT INTO schema_migrations (version, checksum, applied_at) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const file of readdirSync(MIGRATIONS).filter((name) => name.endsWith('.sql')).sort()) {
      const version = file.slice(0, -'.sql'.length);
      if (applied.get(version)) continue;
      const bytes = readFileSync(join(MIGRATIONS, file));
      db.exec(bytes.toString('utf8'));
      record.run(version, createHash('sha256').update(bytes).digest('hex'), new Date().toISOString());
    }
  }).immediate();
}

// A write with RETURNING read by get() stops after one step: SQLite then commits it when the statement is reset and
// skips its WAL auto-checkpoint, and the -wal file grows without bound (to gigabytes in one benchmark run). Stepped to
// its end by all(), it checkpoints as every other write does; the implementation reads these writes the same way.
function returning(statement) {
  return { get: (...args) => statement.all(...args)[0] };
}

async function database(fastify, options) {
  mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  fastify.decorate('db', {
    insertUser: db.prepare(
      `INSERT INTO users (id, email, email_key, display_name, password_hash, created_at)
       VALUES (@id, @email, @email_key, @display_name, @password_hash, @created_at) ON CONFLICT (email_key) DO NOTHING`,
    ),
    userById: db.prepare('SELECT id, email, display_name, created_at FROM users WHERE id = ?'),
    userByEmailKey: db.prepare('SELECT id, email, display_name, password_hash, created_at FROM users WHERE email_key = ?'),
    insertTask: returning(db.prepare(
      `INSERT INTO tasks (id, owner_id, title, notes, due_date, priority, status, version, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'open', 1, ?, ?) RETURNING ${TASK_COLUMNS}`,
    )),
    taskById: db.prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ? AND owner_id = ?`),
    listTasks: db.prepare(
      `SELECT ${TASK_COLUMNS} FROM tasks
       WHERE owner_id = ? AND (? IS NULL OR seq < ?) AND (? IS NULL OR status = ?)
         AND (? IS NULL OR instr(lower(title), lower(?)) > 0 OR instr(lower(coalesce(notes, '')), lower(?)) > 0)
       ORDER BY seq DESC LIMIT ?`,
    ),
    updateTask: returning(db.prepare(
      `UPDATE tasks SET title = ?, notes = ?, due_date = ?, priority = ?, status = ?, version = version + 1, updated_at = ?
       WHERE id = ? AND owner_id = ? AND version = ? RETURNING ${TASK_COLUMNS}`,
    )),
    deleteTask: db.prepare('DELETE FROM tasks WHERE id = ? AND owner_id = ? AND version = ?'),
  });
  fastify.addHook('onClose', async () => db.close());
}

export default fp(database, { name: 'database' });
