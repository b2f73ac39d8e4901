-- PostgreSQL's text of ../0002_login_failures.sql: SQLite's INTEGER is 64-bit, PostgreSQL's 32-bit (unix seconds
-- would overflow in 2038), hence BIGINT; keys COLLATE "C" as every text here.

CREATE TABLE login_failures (
  key          TEXT COLLATE "C" PRIMARY KEY,
  failures     BIGINT NOT NULL,
  window_start BIGINT NOT NULL
);

CREATE INDEX login_failures_window ON login_failures (window_start);
