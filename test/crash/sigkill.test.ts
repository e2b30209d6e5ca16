import type Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { DATABASE_FILE, Store } from '../../src/store/store.js';
import { seededRandom } from '../../src/simulator/random.js';
import { startInbox } from '../helpers/smtp.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import {
  allRollupDisagreements,
  integrity,
  outboxRows,
  readDatabase,
  schemaOf,
  schemaVersion,
  untilWriting,
} from './database.js';
import {
  expectConsistent,
  expectIncidentsMailedOnce,
  expectOneMessageIdPerNotification,
  RAW_RETENTION_MS,
} from './invariants.js';
import {
  ageLock,
  freePort,
  holderPid,
  interruptedSends,
  listening,
  MAIN,
  sigkill,
  spawnService,
  type ServiceProcess,
} from './process.js';
import { outcomeFingerprint, primeOldSchema, primeStore, spreadOutcomes } from './prime.js';
import { CrashReporter } from './reporter.js';
import { flippingUpstream, writeCrashConfig } from './world.js';

/** A fixed seed, printed (CRASH_SEED=n tries other kill points; the timing of each kill still varies with the machine). */
const SEED = Number(process.env.CRASH_SEED ?? 20_261_201);
/** Targets no longer in the config, whose old outcomes retention removes; and those of an older modelpulse's database. */
const GONE = ['gone-a', 'gone-b', 'gone-c', 'gone-d'];
const LEGACY = ['legacy-a', 'legacy-b', 'legacy-c', 'legacy-d'];

const closers: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
const tempDir = useTempDir();

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run the tests with "npm test", which compiles first`);
  console.log(`crash tests: seed ${SEED} (set CRASH_SEED=${SEED} to repeat these kill points)`);
});

function track(service: ServiceProcess): ServiceProcess {
  closers.push(
    () => service.child.exitCode === null && service.child.signalCode === null && service.child.kill('SIGKILL'),
  );
  return service;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

describe('a service killed with SIGKILL', () => {
  it('keeps every acknowledged report once, rollups equal to raw outcomes, and every mail under one Message-ID, whenever it dies', async () => {
    const random = seededRandom(SEED);
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const upstream = await flippingUpstream(SEED);
    closers.push(() => upstream.close());
    const inbox = await startInbox();
    closers.push(() => inbox.close());
    const port = await freePort();
    const env = writeCrashConfig(dir, { dataDir, port, upstream: upstream.url, smtpPort: inbox.port });
    const reporter = new CrashReporter(`http://127.0.0.1:${port}`, env.REPORT_TOKEN!, 'steady', seededRandom(SEED + 1));
    closers.push(() => reporter.stop());
    const cycles = 8 + Math.floor(random() * 8);
    // Two kills wait for a mail the inbox has read but not yet answered: the send is cut off mid-flight.
    const midSend = new Set([1, 2 + Math.floor(random() * (cycles - 2))]);
    let sendingAtStart = 0;
    let service = track(spawnService(env, dir));
    reporter.start();
    const phases: string[] = [];
    let changes = 0;
    for (let cycle = 0; cycle < cycles; cycle++) {
      let phase: string;
      if (midSend.has(cycle)) {
        await listening(service);
        inbox.hold = true;
        const held = inbox.held.length;
        await waitFor(() => inbox.held.length > held, 'a mail to reach the inbox', 45_000).catch((error: Error) => {
          throw new Error(
            `${error.message}; the service said:\n${service.output.stdout.slice(-4_000)}${service.output.stderr}`,
          );
        });
        phase = 'a mail in flight';
      } else if (random() < 0.25) {
        await sleep(service.spawnedAt + random() * 1_500 - Date.now());
        phase = service.output.stdout.includes('listening on') ? 'running' : 'starting';
      } else {
        const url = await listening(service);
        expect((await fetch(`${url}/healthz`)).status, `start ${cycle}: /healthz`).toBe(200);
        await sleep(300 + random() * 1_700);
        phase = 'running';
        // Most such kills land while a report is on its way: written and answered, written and not, or not at all.
        if (random() < 0.7) {
          await reporter.nextPost().then(() => sleep(random() * 30));
          phase = 'running, a report on its way';
        }
      }
      await sigkill(service);
      inbox.hold = false;
      const ranFor = Date.now() - service.spawnedAt;
      // A start that got as far as its alerts found exactly the rows the kill before it left "sending".
      if (/listening on|were being sent/.test(service.output.stdout)) {
        expect(interruptedSends(service.output.stdout), `start ${cycle}: rows found mid-send`).toBe(sendingAtStart);
      }
      const rows = expectConsistent(dataDir, reporter, `after kill ${cycle + 1} (${phase})`);
      sendingAtStart = rows.filter((r) => r.status === 'sending').length;
      phases.push(`${phase} after ${ranFor} ms${sendingAtStart ? `, ${sendingAtStart} sending` : ''}`);
      changes += service.output.stdout.match(/state flaky: /g)?.length ?? 0;
      ageLock(dataDir);
      service = track(spawnService(env, dir));
    }
    console.log(`crash cycles (${cycles}, ${changes} state changes of flaky): ${phases.join('; ')}`);

    // Undisturbed: the target calms down, the outbox drains, every report is acknowledged.
    const url = await listening(service);
    expect(interruptedSends(service.output.stdout), 'last start: rows found mid-send').toBe(sendingAtStart);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    upstream.calm();
    await reporter.finish(15_000);
    for (const started = Date.now(); ; await sleep(100)) {
      const health = (await (await fetch(`${url}/health`)).json()) as {
        targets: Array<{ target: string; status: string }>;
      };
      const undelivered = readDatabase(dataDir, outboxRows).filter((r) => r.status !== 'delivered');
      if (health.targets.find((t) => t.target === 'flaky')?.status === 'healthy' && undelivered.length === 0) break;
      if (Date.now() - started > 30_000) throw new Error(`the outbox did not drain: ${JSON.stringify(undelivered)}`);
    }
    service.child.kill('SIGTERM');
    expect((await service.exited).code, 'exit code after SIGTERM').toBe(0);

    const rows = expectConsistent(dataDir, reporter, 'after the clean stop');
    expect(reporter.unexpected).toEqual([]);
    const incidents = expectIncidentsMailedOnce(rows, 'flaky');
    const { mails, resent } = expectOneMessageIdPerNotification(inbox, rows);
    expect(resent, 'mails cut off mid-send and sent again').toBeGreaterThanOrEqual(1);
    console.log(
      `crash: ${reporter.acknowledged.size} reports acknowledged (${reporter.duplicatesAnswered} answered as duplicates of a batch cut off after it was written), ` +
        `${incidents} incidents in ${rows.length} notifications and ${mails} mails, ${resent} sent again under the same Message-ID`,
    );
  }, 120_000);
});

const HOUR = 3_600_000;
const fileSize = (path: string) => (existsSync(path) ? statSync(path).size : 0);
const count = (db: Database.Database, sql: string, ...params: number[]) =>
  (db.prepare(sql).get(...params) as { n: number }).n;

describe('a service killed with SIGKILL at start', () => {
  it('during the retention pass over a long past: the prune happened wholly or not at all, rollups agree, the next start serves', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const now = Date.now();
    const old = spreadOutcomes(GONE, now - 30 * HOUR, now - 2 * HOUR, 200_000);
    const recent = spreadOutcomes(GONE, now - 50 * 60_000, now - 5 * 60_000, 2_000);
    primeStore(dataDir, [...old, ...recent]);
    const upstream = await flippingUpstream(SEED);
    upstream.calm();
    closers.push(() => upstream.close());
    const env = writeCrashConfig(dir, { dataDir, port: await freePort(), upstream: upstream.url, rawRetention: '1h' });
    const look = () =>
      readDatabase(dataDir, (db) => ({
        integrity: integrity(db),
        oldLeft: count(
          db,
          `SELECT COUNT(*) AS n FROM outcomes WHERE target_id LIKE 'gone-%' AND at < ?`,
          now - 90 * 60_000,
        ),
        recentLeft: count(
          db,
          `SELECT COUNT(*) AS n FROM outcomes WHERE target_id LIKE 'gone-%' AND at >= ?`,
          now - 90 * 60_000,
        ),
        hourRollups: count(db, `SELECT SUM(n_ok + n_overloaded) AS n FROM rollup_hour WHERE target_id LIKE 'gone-%'`),
        disagreements: allRollupDisagreements(db, Date.now() - HOUR),
      }));

    // Killed once the start has written 256 KiB to the WAL: the prune's deletions spill there long before
    // its transaction of 200,000 rows commits, so the kill lands inside it (asserted below).
    const walLimit = 256 * 1024;
    const wal = join(dataDir, `${DATABASE_FILE}-wal`);
    const service = track(spawnService(env, dir));
    let walAtKill = 0;
    const written = () => (walAtKill = fileSize(wal)) >= walLimit || service.output.stdout.includes('listening on');
    await waitFor(written, 'the start to write or listen', 30_000);
    await sigkill(service);
    const killed = look();
    const phase =
      killed.oldLeft === old.length
        ? walAtKill > 64 * 1024
          ? 'inside the prune (rolled back)'
          : 'before the prune'
        : service.output.stdout.includes('listening on')
          ? 'after the start'
          : 'after the prune committed, before listening';
    const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;
    console.log(
      `retention kill: ${phase} (WAL ${kib(walAtKill)} of a ${kib(walLimit)} limit, ${Date.now() - service.spawnedAt} ms after spawn)`,
    );
    expect(phase).toBe('inside the prune (rolled back)');
    expect(killed.integrity).toBe('ok');
    expect([0, old.length], 'old raw outcomes left: none or all').toContain(killed.oldLeft);
    expect(killed.recentLeft, 'outcomes within retention.raw').toBe(recent.length);
    expect(killed.hourRollups, 'hour rollups (kept 90 days) of the pruned outcomes').toBe(old.length + recent.length);
    expect(killed.disagreements).toEqual([]);

    ageLock(dataDir);
    const again = track(spawnService(env, dir));
    const url = await listening(again);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    again.child.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
    const after = look();
    expect(after).toEqual({
      integrity: 'ok',
      oldLeft: 0,
      recentLeft: recent.length,
      hourRollups: old.length + recent.length,
      disagreements: [],
    });
  }, 90_000);

  it('during migrations from an older schema: each step whole or not at all, no row lost, and the next start finishes them', async () => {
    const random = seededRandom(SEED + 3);
    const from = 1 + Math.floor(random() * 5);
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const now = Date.now();
    primeOldSchema(dataDir, from, spreadOutcomes(LEGACY, now - 20 * HOUR, now - 60_000, 100_000));
    const fingerprint = readDatabase(dataDir, (db) => outcomeFingerprint(db, 'legacy-'));
    const upstream = await flippingUpstream(SEED);
    upstream.calm();
    closers.push(() => upstream.close());
    const env = writeCrashConfig(dir, { dataDir, port: await freePort(), upstream: upstream.url });
    const look = () =>
      readDatabase(dataDir, (db) => ({
        integrity: integrity(db),
        version: schemaVersion(db),
        fingerprint: outcomeFingerprint(db, 'legacy-'),
        disagreements: allRollupDisagreements(db, Date.now() - RAW_RETENTION_MS),
      }));

    const seen: string[] = [];
    let version = from;
    for (let kill = 0; kill < 2; kill++) {
      const service = track(spawnService(env, dir));
      if (kill === 0) {
        // Killed the moment it holds a write transaction: one of its migrations, most likely.
        await untilWriting(dataDir, () => service.output.stdout.includes('listening on'), 30_000);
      } else {
        // It opens the database and migrates right after taking the data dir's lock.
        const locked = () => holderPid(dataDir) === service.child.pid || service.child.exitCode !== null;
        await waitFor(locked, 'the start to take the lock', 30_000);
        await sleep(random() * 150);
      }
      await sigkill(service);
      const killed = look();
      const after = `${Date.now() - service.spawnedAt} ms after spawn${service.output.stdout.includes('listening on') ? ', listening' : ''}`;
      const next = killed.version + 1;
      const phase =
        killed.version === MIGRATIONS.length
          ? 'after the migrations'
          : kill === 0
            ? `inside migration ${next}, rolled back`
            : `before or inside migration ${next}`;
      seen.push(`v${killed.version}: ${phase} (${after})`);
      // The first kill lands while the migrations are under way, not after them.
      if (kill === 0)
        expect(killed.version, 'the first kill lands inside the migrations').toBeLessThan(MIGRATIONS.length);
      expect(killed.integrity).toBe('ok');
      expect(killed.version, 'schema version never goes back').toBeGreaterThanOrEqual(version);
      expect(killed.version).toBeLessThanOrEqual(MIGRATIONS.length);
      expect(killed.fingerprint).toBe(fingerprint);
      expect(killed.disagreements).toEqual([]);
      version = killed.version;
      ageLock(dataDir);
    }
    console.log(`migration kills from v${from}: ${seen.join(', ')}`);

    const service = track(spawnService(env, dir));
    const url = await listening(service);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    service.child.kill('SIGTERM');
    expect((await service.exited).code).toBe(0);
    expect(look()).toEqual({ integrity: 'ok', version: MIGRATIONS.length, fingerprint, disagreements: [] });
    // The same tables, columns and indexes as a database made by this version from scratch.
    const fresh = join(dir, 'fresh');
    new Store(fresh).close();
    expect(readDatabase(dataDir, schemaOf)).toEqual(readDatabase(fresh, schemaOf));
  }, 90_000);
});
