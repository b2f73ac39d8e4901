-- Failed logins, counted per key in fixed windows and shared by every instance on the database, so that login
-- throttling holds across processes and implementations. A key is `account:<email_key>` or `address:<client IP>`.

CREATE TABLE login_failures (
  key          TEXT PRIMARY KEY,
  failures     INTEGER NOT NULL,   -- failed logins since window_start
  window_start INTEGER NOT NULL    -- unix seconds when this count began
);

CREATE INDEX login_failures_window ON login_failures (window_start);
