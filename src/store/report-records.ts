import type Database from 'better-sqlite3';
import { OUTCOME_CLASSES, type ClassCounts, type OutcomeClass } from '../domain/outcome.js';
import { emptyCounts } from '../stats/counts.js';

/** How many reports one app sent about one target in a time range, by outcome class. */
export interface ReportVolume {
  reporter: string;
  targetId: string;
  total: number;
  counts: ClassCounts;
  lastAt: number;
}

/** Client reports' own records: request ids already taken (idempotency), and report volume. */
export class ReportRecords {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      claim: db.prepare(`INSERT OR IGNORE INTO report_ids (reporter, request_id, received_at) VALUES (?, ?, ?)`),
      prune: db.prepare(`DELETE FROM report_ids WHERE received_at < ?`),
      volume: db.prepare(`
        SELECT reporter, target_id, class, COUNT(*) AS n, MAX(at) AS last_at FROM outcomes
        WHERE source = 'report' AND at >= ? AND at <= ?
        GROUP BY reporter, target_id, class`),
    };
  }

  /** Takes a request id for an app; false when that app already sent it (the report is a duplicate). Call inside the insert's transaction. */
  claim(reporter: string, requestId: string, at: number): boolean {
    return this.statements.claim.run(reporter, requestId, at).changes === 1;
  }

  prune(before: number): number {
    return this.statements.prune.run(before).changes;
  }

  /** Report volume per app and target whose calls started in [from, to]. */
  volume(from: number, to: number): ReportVolume[] {
    const rows = this.statements.volume.all(from, to) as Array<{
      reporter: string | null;
      target_id: string;
      class: OutcomeClass;
      n: number;
      last_at: number;
    }>;
    const byKey = new Map<string, ReportVolume>();
    for (const row of rows) {
      const reporter = row.reporter ?? 'unknown';
      const key = `${reporter}\u0000${row.target_id}`;
      let entry = byKey.get(key);
      if (!entry)
        byKey.set(
          key,
          (entry = { reporter, targetId: row.target_id, total: 0, counts: emptyCounts(), lastAt: row.last_at }),
        );
      if (OUTCOME_CLASSES.includes(row.class)) entry.counts[row.class] += row.n;
      entry.total += row.n;
      entry.lastAt = Math.max(entry.lastAt, row.last_at);
    }
    return [...byKey.values()].sort(
      (a, b) => a.reporter.localeCompare(b.reporter) || a.targetId.localeCompare(b.targetId),
    );
  }
}
