import type Database from 'better-sqlite3';

const rollupTable = (grain: string) => `
  CREATE TABLE rollup_${grain} (
    target_id TEXT NOT NULL,
    source TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    n_ok INTEGER NOT NULL DEFAULT 0,
    n_overloaded INTEGER NOT NULL DEFAULT 0,
    n_rate_limited INTEGER NOT NULL DEFAULT 0,
    n_timeout INTEGER NOT NULL DEFAULT 0,
    n_server_error INTEGER NOT NULL DEFAULT 0,
    n_client_error INTEGER NOT NULL DEFAULT 0,
    n_network INTEGER NOT NULL DEFAULT 0,
    n_bad_output INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    latency_sum_ms INTEGER NOT NULL DEFAULT 0,
    hist BLOB NOT NULL,
    PRIMARY KEY (target_id, source, bucket)
  ) WITHOUT ROWID;`;

/** Versioned schema steps; PRAGMA user_version records how many have run. Append, never edit. */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE outcomes (
    id INTEGER PRIMARY KEY,
    target_id TEXT NOT NULL,
    source TEXT NOT NULL,
    at INTEGER NOT NULL,
    class TEXT NOT NULL,
    http_status INTEGER,
    api_status TEXT,
    message TEXT,
    detail TEXT,
    latency_ms INTEGER NOT NULL,
    ttfb_ms INTEGER,
    retry_after_ms INTEGER,
    cost_usd REAL NOT NULL DEFAULT 0
  );
  CREATE INDEX outcomes_by_target_time ON outcomes (target_id, at);
  ${rollupTable('minute')}
  ${rollupTable('hour')}
  ${rollupTable('day')}
  `,
  `
  CREATE TABLE target_state (
    target_id TEXT PRIMARY KEY,
    tracker TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE transitions (
    id INTEGER PRIMARY KEY,
    target_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    cause TEXT NOT NULL,
    figures TEXT NOT NULL
  );
  CREATE INDEX transitions_by_target_time ON transitions (target_id, at);
  CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    target_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    state TEXT NOT NULL,
    worst_state TEXT NOT NULL,
    cause TEXT NOT NULL,
    peak TEXT NOT NULL
  );
  CREATE INDEX incidents_by_target_start ON incidents (target_id, started_at);
  CREATE UNIQUE INDEX one_open_incident_per_target ON incidents (target_id) WHERE ended_at IS NULL;
  `,
  `
  CREATE TABLE alert_state (
    target_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    target_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    draft TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    delivered_at INTEGER,
    delivery_id TEXT,
    subject TEXT
  );
  CREATE INDEX notifications_due ON notifications (channel, status, next_attempt_at);
  `,
  `
  CREATE TABLE official_sources (
    source_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    fetched_at INTEGER,
    attempted_at INTEGER,
    error TEXT,
    failing_since INTEGER,
    etag TEXT,
    last_modified TEXT,
    baseline_at INTEGER
  );
  CREATE TABLE official_incidents (
    source_id TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    title TEXT NOT NULL,
    stage TEXT NOT NULL,
    impact TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    posted_at INTEGER,
    first_seen_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    url TEXT,
    affected TEXT NOT NULL,
    PRIMARY KEY (source_id, incident_id)
  ) WITHOUT ROWID;
  CREATE INDEX official_incidents_by_start ON official_incidents (source_id, started_at);
  CREATE TABLE official_snapshots (
    id INTEGER PRIMARY KEY,
    source_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    status TEXT NOT NULL,
    error TEXT
  );
  CREATE INDEX official_snapshots_by_source ON official_snapshots (source_id, at);
  CREATE TABLE discrepancies (
    id INTEGER PRIMARY KEY,
    target_id TEXT NOT NULL,
    holding_since INTEGER NOT NULL,
    raised_at INTEGER NOT NULL,
    cleared_at INTEGER,
    cleared_by TEXT,
    sources TEXT NOT NULL
  );
  CREATE INDEX discrepancies_by_target ON discrepancies (target_id, raised_at);
  CREATE UNIQUE INDEX one_open_discrepancy_per_target ON discrepancies (target_id) WHERE cleared_at IS NULL;
  `,
  // What a source was read as (kind, URL, filter): a reading under another scope is a new baseline, not news.
  `
  ALTER TABLE official_sources ADD COLUMN scope TEXT;
  `,
  // Client reports: which app sent each one, and the request ids already taken (idempotency).
  `
  ALTER TABLE outcomes ADD COLUMN reporter TEXT;
  CREATE INDEX outcomes_reports_by_time ON outcomes (at) WHERE source = 'report';
  CREATE TABLE report_ids (
    reporter TEXT NOT NULL,
    request_id TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (reporter, request_id)
  ) WITHOUT ROWID;
  CREATE INDEX report_ids_by_time ON report_ids (received_at);
  `,
  // Whether a report moved health: a restart rebuilds health memory from probes and these only.
  `
  ALTER TABLE outcomes ADD COLUMN voted INTEGER;
  `,
  // Where an official incident happens (JSON array of Google location ids); NULL for older rows: everywhere.
  `
  ALTER TABLE official_incidents ADD COLUMN locations TEXT;
  `,
  // At-least-once delivery: this database's own id (in every Message-ID), and the delivery a row was
  // claimed for, kept through retries and restarts so a resend carries the same id.
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  ALTER TABLE notifications ADD COLUMN claim TEXT;
  ALTER TABLE notifications ADD COLUMN refusals INTEGER NOT NULL DEFAULT 0;
  `,
];

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `database schema version ${current} is newer than this modelpulse (${MIGRATIONS.length}); upgrade modelpulse`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
