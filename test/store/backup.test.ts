import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/domain/outcome.js';
import type { Service } from '../../src/service.js';
import { backupDatabase, settleCopy } from '../../src/store/backup.js';
import { DATABASE_FILE, Store } from '../../src/store/store.js';
import {
  emailSettings,
  freePort,
  listedAlerts,
  MINUTE,
  MODELS,
  subjects,
  useAlertWorld,
  type AlertWorld,
} from '../alerts/alert-world.js';
import { outcome } from '../helpers/outcomes.js';
import { fileConfig, runFor, startTestService } from '../helpers/service.js';
import { startInbox } from '../helpers/smtp.js';
import { useTempDir } from '../helpers/tmp.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'src', 'store', 'backup-cli.js');
const PRO = 'nano-banana-pro';
const FLASH = 'nano-banana';
const ONSET = /^\[modelpulse\] nano-banana-pro OVERLOADED/;
const API_KEY = 'AIza-SECRET-backup-0001';

async function getJson(service: Service, path: string): Promise<unknown> {
  const response = await fetch(`${service.url}${path}`);
  expect(response.status).toBe(200);
  return response.json();
}

/** Twelve hours of 10 s probes, so the database spans enough pages for a copy of many steps. */
function history(targetId: string, end: number): Outcome[] {
  return Array.from({ length: 4_320 }, (_, n) =>
    outcome(targetId, end - (4_320 - n) * 10_000, n % 40 === 0 ? 'overloaded' : 'ok', 900 + (n % 17) * 50),
  );
}

/** Pro overloaded with its onset stuck in the outbox (nobody listens on the mail port); flash healthy. */
async function incidentUnderway(w: AlertWorld, mailPort: number): Promise<Service> {
  const service = await w.start([w.target(PRO, MODELS.pro), w.target(FLASH, MODELS.flash)], {
    email: emailSettings(mailPort),
  });
  service.store.insertOutcomes(history(FLASH, w.clock.now));
  await runFor(service, w.clock, 2 * MINUTE);
  w.upstream.set('overloaded', MODELS.pro);
  await runFor(service, w.clock, 3 * MINUTE);
  return service;
}

function runCli(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('backing up the live database', () => {
  const begin = useAlertWorld();
  const tempDir = useTempDir();

  it('copies one consistent snapshot while the service keeps probing, storing and answering, and a service on the copy resumes the incident and its outbox', async () => {
    const w = await begin();
    const mailPort = await freePort();
    const service = await incidentUnderway(w, mailPort);
    const atBackup = {
      at: w.clock.now,
      incidents: await getJson(service, '/api/incidents'),
      alerts: (await listedAlerts(service)).raw,
      flashOutcomes: service.store.outcomesSince(FLASH, 0).length,
    };
    expect(atBackup.incidents).toMatchObject({ incidents: [{ target: PRO, endedAt: null, state: 'overloaded' }] });
    expect(JSON.parse(atBackup.alerts)).toMatchObject({
      notifications: [{ target: PRO, kind: 'overloaded', status: 'pending' }],
    });

    // Between steps of four pages: 25 outcomes through the service's pipeline, /health and /healthz
    // over HTTP, and every tenth step a heartbeat with real probes and an alert round.
    const copy = join(tempDir(), 'modelpulse-backup.sqlite');
    let steps = 0;
    let written = 0;
    const answers: number[] = [];
    const result = await backupDatabase(service.store.path, copy, {
      pagesPerStep: 4,
      onProgress: async () => {
        steps += 1;
        for (let n = 0; n < 25; n += 1) service.pipeline.record(outcome(FLASH, w.clock.now, 'ok', 800));
        written += 25;
        answers.push((await fetch(`${service.url}/health`)).status, (await fetch(`${service.url}/healthz`)).status);
        if (steps % 10 === 0) await runFor(service, w.clock, 1_000);
      },
    });

    // One call per four pages of the snapshot: the service's commits never restarted the copy.
    expect(result.pages).toBeGreaterThan(100);
    expect(steps).toBe(Math.ceil(result.pages / 4));
    expect(answers.every((status) => status === 200)).toBe(true);
    expect(service.store.outcomesSince(FLASH, 0).length).toBeGreaterThanOrEqual(atBackup.flashOutcomes + written);
    expect(settleCopy(copy)).toEqual(['ok']);
    expect(readdirSync(dirname(copy))).toEqual(['modelpulse-backup.sqlite']);

    await service.close();
    const inbox = await startInbox({ port: mailPort });
    w.later(() => inbox.close());
    const restoredDir = tempDir();
    copyFileSync(copy, join(restoredDir, DATABASE_FILE));
    const clock = { now: atBackup.at };
    const settings = {
      dashboardUrl: 'https://modelpulse.example.com',
      groupWaitMs: 30_000,
      email: emailSettings(mailPort),
    };
    const restored = await startTestService(fileConfig(restoredDir, [...service.targets], settings), clock);
    w.later(() => restored.close());
    expect(await getJson(restored, '/api/incidents')).toEqual(atBackup.incidents);
    expect((await listedAlerts(restored)).raw).toBe(atBackup.alerts);
    expect(restored.store.outcomesSince(FLASH, 0)).toHaveLength(atBackup.flashOutcomes);
    expect(restored.pipeline.engine.status(PRO)).toBe('overloaded');

    await runFor(restored, clock, 3 * MINUTE);
    expect(subjects(inbox.mails)).toEqual([expect.stringMatching(ONSET)]);
  });

  it('refuses to write over the live database or its files, and the service keeps serving', async () => {
    const w = await begin();
    const service = await w.start([w.target(PRO, MODELS.pro)], {});
    await runFor(service, w.clock, 30_000);
    const live = service.store.path;
    const link = join(tempDir(), 'link.sqlite');
    symlinkSync(live, link);
    for (const destination of [live, `${live}-wal`, link]) {
      await expect(backupDatabase(live, destination)).rejects.toThrow(
        /is the live database \(or one of its files\); back up to another path/,
      );
    }
    await runFor(service, w.clock, 30_000);
    expect(await getJson(service, '/healthz')).toMatchObject({ status: 'ok' });
    expect(service.store.outcomesSince(PRO, 0).length).toBeGreaterThan(0);
  });

  it('names the problem: a missing database, a file that is not one, a destination directory that does not exist', async () => {
    const dir = tempDir();
    await expect(backupDatabase(join(dir, 'nowhere', DATABASE_FILE), join(dir, 'copy.sqlite'))).rejects.toThrow(
      `no database at ${join(dir, 'nowhere', DATABASE_FILE)}`,
    );
    writeFileSync(join(dir, 'notes.txt'), 'not a database, just text that is long enough to fill a header '.repeat(20));
    await expect(backupDatabase(join(dir, 'notes.txt'), join(dir, 'copy.sqlite'))).rejects.toThrow(
      `${join(dir, 'notes.txt')} is not an SQLite database`,
    );
    new Store(join(dir, 'data')).close();
    const missing = join(dir, 'backups', 'copy.sqlite');
    await expect(backupDatabase(join(dir, 'data', DATABASE_FILE), missing)).rejects.toThrow(
      `${missing}: directory ${join(dir, 'backups')} does not exist`,
    );
    await expect(backupDatabase(join(dir, 'data', DATABASE_FILE), dir)).rejects.toThrow(
      `${dir} is a directory; name the file to write`,
    );
    expect(readdirSync(dir).sort()).toEqual(['data', 'notes.txt']);
  });

  it('fails on a copy that does not pass integrity_check, keeping the older backup in place', async () => {
    const dir = tempDir();
    const store = new Store(join(dir, 'data'));
    store.insertOutcomes(history(PRO, Date.UTC(2026, 10, 25, 13)));
    store.close();
    corruptIndex(join(dir, 'data', DATABASE_FILE), 'outcomes_by_target_time');
    const destination = join(dir, 'backup.sqlite');
    writeFileSync(destination, 'yesterday’s backup');

    await expect(backupDatabase(join(dir, 'data', DATABASE_FILE), destination)).rejects.toThrow(
      /failed PRAGMA integrity_check \(.*outcomes_by_target_time.*\); .*backup\.sqlite was left as it was/,
    );
    expect(readFileSync(destination, 'utf8')).toBe('yesterday’s backup');
    expect(readdirSync(dir).sort()).toEqual(['backup.sqlite', 'data']);
  });
});

/** Renames the target in every key of one index leaf page: the table and the index then disagree. */
function corruptIndex(path: string, index: string): void {
  const db = new Database(path, { readonly: true });
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db
    .prepare(`SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf'`)
    .pluck()
    .all(index) as number[];
  db.close();
  const file = readFileSync(path);
  const start = (pages[0]! - 1) * pageSize;
  const page = file.subarray(start, start + pageSize);
  const key = Buffer.from(PRO);
  for (let at = page.indexOf(key); at !== -1; at = page.indexOf(key, at + 1)) page[at] = 'x'.charCodeAt(0);
  writeFileSync(path, file);
}

describe('npm run backup', () => {
  const begin = useAlertWorld();
  const tempDir = useTempDir();
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run the tests with "npm test", which compiles first`);
  });

  it('copies the database the configuration names while the service runs, and says which problem stops it', async () => {
    const w = await begin();
    const service = await w.start([w.target(PRO, MODELS.pro)], {});
    await runFor(service, w.clock, MINUTE);
    const cwd = tempDir();
    const config = [
      `dataDir: ${JSON.stringify(w.dir)}`,
      'targets:',
      `  - id: ${PRO}`,
      '    provider: gemini',
      `    model: ${MODELS.pro}`,
      '    apiKeyEnv: GEMINI_API_KEY',
      '',
    ];
    writeFileSync(join(cwd, 'modelpulse.yaml'), config.join('\n'));
    mkdirSync(join(cwd, 'backups'));

    const copied = await runCli(cwd, ['backups/modelpulse.sqlite'], { GEMINI_API_KEY: API_KEY });
    const [, from, to] =
      /^backup: copied (\S+) to (\S+) \(\d+ pages, \d+\.\d MiB\); integrity_check ok\n$/.exec(copied.out) ?? [];
    expect([from, to]).toEqual([service.store.path, join(cwd, 'backups', 'modelpulse.sqlite')]);
    expect(copied.code).toBe(0);
    expect(settleCopy(join(cwd, 'backups', 'modelpulse.sqlite'))).toEqual(['ok']);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);

    const elsewhere = tempDir();
    const missing = await runCli(elsewhere, ['copy.sqlite']);
    expect(missing.code).toBe(2);
    expect(missing.out).toBe(
      `backup: no database at ${join(elsewhere, 'data', DATABASE_FILE)} (data directory ./data by default, as no modelpulse.yaml is here; run this where the service runs, or pass --data DIR)\n`,
    );

    const over = await runCli(cwd, ['--data', w.dir, service.store.path]);
    expect(over.code).toBe(2);
    expect(over.out).toContain('is the live database');
    expect(copied.out + missing.out + over.out).not.toContain(API_KEY);
  });
});
