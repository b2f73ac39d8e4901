-- Accounts and their tasks. Shared by both implementations; never edit an applied migration, add a new file.

CREATE TABLE users (
  id            TEXT PRIMARY KEY,          -- uuid v4, lowercase
  email         TEXT NOT NULL,             -- as registered
  email_key     TEXT NOT NULL UNIQUE,      -- ASCII-lowercased email, for uniqueness and login
  display_name  TEXT NOT NULL,
  password_hash TEXT NOT NULL,             -- bcrypt $2b$
  created_at    TEXT NOT NULL              -- YYYY-MM-DDTHH:MM:SS.mmmZ
);

CREATE TABLE tasks (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,  -- list order and cursor position
  id         TEXT NOT NULL UNIQUE,               -- uuid v4, lowercase
  owner_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  title      TEXT NOT NULL,
  notes      TEXT NULL,
  due_date   TEXT NULL,                          -- YYYY-MM-DD
  priority   TEXT NOT NULL,
  status     TEXT NOT NULL,
  version    INTEGER NOT NULL,                   -- ETag "<version>", +1 on every update
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE INDEX tasks_owner_seq ON tasks (owner_id, seq);
