-- 0004_officer_sessions: sign-in sessions of the officer pages (GET /officer).
--
-- The browser holds a random 256-bit session id in an HttpOnly, SameSite=Strict cookie; only its
-- SHA-256 is kept here (like every other secret), so a copy of this table opens no session. A
-- session ends at expires_at (absolute: no sliding renewal) or at sign-out, which deletes it.
-- Few rows, one per signed-in officer and browser: on Citus a reference table beside officers.
create table officer_sessions (
  id_hash    text primary key check (id_hash ~ '^[0-9a-f]{64}$'),
  officer_id uuid not null references officers (id),
  created_at timestamptz not null,
  expires_at timestamptz not null,
  check (expires_at > created_at)
);
create index officer_sessions_expiry on officer_sessions (expires_at);
