import { createHash } from 'node:crypto';
import type { StatusSource } from '../config/status-schema.js';
import type { OfficialReading, OfficialView } from '../domain/official.js';
import type { Logger } from '../log.js';
import type { OfficialRecords, SourceRecord, StoredIncident } from '../store/official-records.js';
import { fetchStatusPage, FetchError, type FetchOptions } from './fetch.js';
import { viewAt } from './locations.js';
import { PayloadError } from './payload.js';
import { PARSERS } from './parsers.js';

export type OfficialEvent =
  | { kind: 'opened'; sourceId: string; incident: StoredIncident; at: number }
  /** `afterTheFact`: we first saw it already over (posted late, or while we were not polling). */
  | { kind: 'resolved'; sourceId: string; incident: StoredIncident; at: number; afterTheFact: boolean }
  | { kind: 'fetch_failed'; sourceId: string; error: string; at: number };

export interface MonitorOptions {
  now: () => number;
  log: Logger;
  fetch?: Omit<FetchOptions, 'signal'>;
  /** How long official incidents are kept: one that ended before this is pruned history, neither stored again nor news. */
  keepMs?: number;
}

/** Stale for this many poll intervals: the last known status is no longer shown. */
const UNKNOWN_AFTER_POLLS = 3;
/** A poll this overdue (a hung fetch) makes the reading stale even before it fails. */
const OVERDUE_POLLS = 2;

/**
 * Polls each official status page on its own interval (driven by the service heartbeat), keeps
 * the last good reading in memory and in SQLite, and reports incidents as they open and resolve.
 * A failed or malformed fetch keeps the last reading, marked stale; nothing here throws.
 */
export class OfficialMonitor {
  private readonly records = new Map<string, SourceRecord>();
  private readonly open = new Map<string, StoredIncident[]>();
  private readonly nextAt = new Map<string, number>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly listeners: Array<(event: OfficialEvent) => void> = [];
  private readonly stop = new AbortController();
  /** Incidents a page listed again after dropping them: their next resolution was already announced. */
  private readonly reopened = new Set<string>();
  /**
   * The last body read in full per source by this process: a 304 re-reads it, so rules that depend on
   * the time (a quiet item ends) still run. Only once a source has one are the stored validators ours
   * to send (a restarted service may filter differently).
   */
  private readonly lastBody = new Map<string, string>();

  constructor(
    readonly sources: readonly StatusSource[],
    private readonly store: OfficialRecords,
    private readonly options: MonitorOptions,
  ) {
    const saved = store.sources();
    for (const source of sources) {
      this.records.set(source.id, saved.get(source.id) ?? emptyRecord(source.id));
      this.open.set(source.id, store.openIncidents(source.id));
    }
  }

  /** How far back official incidents are kept. */
  get historyMs(): number {
    return this.options.keepMs ?? Infinity;
  }

  listen(listener: (event: OfficialEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Starts a poll of every source that is due and not already being fetched. */
  tick(now: number): void {
    for (const source of this.sources) {
      if (this.running.has(source.id) || now < (this.nextAt.get(source.id) ?? 0)) continue;
      this.nextAt.set(source.id, now + source.everyMs);
      const run = this.poll(source).finally(() => this.running.delete(source.id));
      this.running.set(source.id, run);
    }
  }

  /** Settles when the polls in flight have finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.running.values()]);
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.idle();
  }

  view(sourceId: string, now: number): OfficialView | undefined {
    const source = this.sources.find((s) => s.id === sourceId);
    const record = this.records.get(sourceId);
    if (!source || !record) return undefined;
    const overdue = record.fetchedAt !== null && now - record.fetchedAt > OVERDUE_POLLS * source.everyMs;
    const staleSince = record.failingSince ?? (overdue ? record.fetchedAt! + OVERDUE_POLLS * source.everyMs : null);
    const gone =
      record.fetchedAt === null || (staleSince !== null && now - staleSince >= UNKNOWN_AFTER_POLLS * source.everyMs);
    return {
      sourceId,
      status: gone ? 'unknown' : record.status,
      stale: record.fetchedAt === null || staleSince !== null,
      fetchedAt: record.fetchedAt,
      error: record.error ?? (overdue ? `no answer since ${new Date(record.fetchedAt!).toISOString()}` : null),
      open: this.open.get(sourceId) ?? [],
    };
  }

  /** The views of the sources that speak for a target; at a Vertex `location`, Google Cloud ones keep only the incidents there. */
  viewsFor(targetId: string, now: number, location: string | null = null): OfficialView[] {
    return this.sources
      .filter((s) => s.targets.includes(targetId))
      .map((s) => (s.kind === 'google-cloud' ? viewAt(this.view(s.id, now)!, location) : this.view(s.id, now)!));
  }

  private async poll(source: StatusSource): Promise<void> {
    const record = this.records.get(source.id)!;
    const attemptedAt = this.options.now();
    try {
      const validators = this.lastBody.has(source.id)
        ? { etag: record.etag, lastModified: record.lastModified }
        : { etag: null, lastModified: null };
      const fetched = await fetchStatusPage(source, validators, { ...this.options.fetch, signal: this.stop.signal });
      const at = this.options.now();
      const text = fetched.kind === 'not-modified' ? this.lastBody.get(source.id) : fetched.text;
      if (text === undefined)
        return this.settle(source, { ...record, fetchedAt: at, attemptedAt, error: null, failingSince: null });
      const reading = PARSERS[source.kind](text, source.match, at, source.url);
      // Read under another kind, URL or filter than before: what it lists now is a new baseline, not news.
      const scope = scopeOf(source);
      const baselineAt = record.scope !== null && record.scope !== scope ? null : record.baselineAt;
      const events = this.merge(source, baselineAt, reading, at);
      if (fetched.kind === 'fresh') this.lastBody.set(source.id, fetched.text);
      const fresh = fetched.kind === 'fresh' ? fetched.validators : {};
      this.settle(source, {
        ...record,
        ...fresh,
        status: reading.status,
        fetchedAt: at,
        attemptedAt,
        error: null,
        failingSince: null,
        baselineAt: baselineAt ?? at,
        scope,
      });
      for (const event of events) this.emit(event);
    } catch (error) {
      if (this.stop.signal.aborted) return;
      const at = this.options.now();
      const message = describe(error);
      if (record.error !== message)
        this.options.log.warn(`status ${source.id}: ${message}; keeping the last known status, marked stale`);
      this.settle(source, { ...record, attemptedAt, error: message, failingSince: record.failingSince ?? at });
      this.emit({ kind: 'fetch_failed', sourceId: source.id, error: message, at });
    }
  }

  /**
   * Stores a good reading's incidents and says which ones are news: none on the very first reading,
   * none for history older than what we keep, and at most one resolution per incident even when a
   * page drops and relists it.
   */
  private merge(source: StatusSource, baseline: number | null, reading: OfficialReading, at: number): OfficialEvent[] {
    const events: OfficialEvent[] = [];
    const horizon = at - (this.options.keepMs ?? Infinity);
    const kept = reading.incidents.filter((i) => i.endedAt === null || i.endedAt >= horizon);
    const listed = new Set(reading.incidents.map((i) => i.id));
    const resolved = (incident: StoredIncident, afterTheFact: boolean) => {
      if (baseline !== null && !this.reopened.delete(key(source.id, incident.id)))
        events.push({ kind: 'resolved', sourceId: source.id, incident, at, afterTheFact });
    };
    this.store.transaction(() => {
      for (const incident of kept) {
        const before = this.store.incident(source.id, incident.id);
        this.store.saveIncident(source.id, incident, at);
        const saved = this.store.incident(source.id, incident.id)!;
        if (before && before.endedAt !== null && incident.endedAt === null)
          this.reopened.add(key(source.id, incident.id));
        if (baseline === null) continue;
        if (!before && incident.endedAt === null)
          events.push({ kind: 'opened', sourceId: source.id, incident: saved, at });
        else if (!before && incident.endedAt !== null && incident.endedAt > baseline) resolved(saved, true);
        else if (before && before.endedAt === null && incident.endedAt !== null) resolved(saved, false);
      }
      // A page that stops listing an open incident (Statuspage's summary drops resolved ones) has resolved it.
      for (const gone of this.store.openIncidents(source.id).filter((i) => !listed.has(i.id))) {
        const closed = { ...gone, stage: 'resolved' as const, endedAt: at };
        this.store.saveIncident(source.id, closed, at);
        resolved(closed, false);
      }
    });
    this.open.set(source.id, this.store.openIncidents(source.id));
    return events;
  }

  private settle(source: StatusSource, record: SourceRecord): void {
    if (this.records.get(source.id)?.error && record.error === null)
      this.options.log.info(`status ${source.id}: reachable again`);
    this.records.set(source.id, record);
    this.store.saveSource(record);
    const shown = this.view(source.id, this.options.now())!;
    this.store.noteStatus(source.id, this.options.now(), shown.status, record.error);
  }

  private emit(event: OfficialEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.options.log.error(`status ${event.sourceId}: handling ${event.kind} failed: ${describe(error)}`);
      }
    }
  }
}

/** A digest, not the URL itself: a URL may carry a token, which never goes to the database. */
function scopeOf(source: StatusSource): string {
  return createHash('sha256')
    .update(JSON.stringify([source.kind, source.url, [...source.match].sort()]))
    .digest('base64url');
}

function key(sourceId: string, incidentId: string): string {
  return `${sourceId}\u0000${incidentId}`;
}

function emptyRecord(sourceId: string): SourceRecord {
  return {
    sourceId,
    status: 'unknown',
    fetchedAt: null,
    attemptedAt: null,
    error: null,
    failingSince: null,
    etag: null,
    lastModified: null,
    baselineAt: null,
    scope: null,
  };
}

function describe(error: unknown): string {
  if (error instanceof PayloadError) return `malformed payload: ${error.message}`;
  if (error instanceof FetchError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
