import { spawn } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { DataDirInUse } from '../../src/store/data-dir-lock.js';
import { presetTrace } from '../../src/simulator/scenario.js';
import { startSimulator } from '../../src/simulator/server.js';
import { fileConfig, runFor, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';

const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'src', 'main.js');
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('one writer per data dir', () => {
  const tempDir = useTempDir();

  async function service(dir: string, clock: { now: number }): Promise<Service> {
    const simulator = await startSimulator({ trace: presetTrace('healthy'), now: () => clock.now });
    closers.push(() => simulator.close());
    simulator.force({ kind: 'ok', delayMs: 0 });
    const started = await startTestService(fileConfig(dir, [simulatedTarget('nano-banana', simulator.url, { every: 60_000, timeout: 180_000 })]), clock);
    closers.push(() => started.close());
    return started;
  }

  it('refuses a second instance on the same data dir, naming the dir and the way out, while the first keeps probing', async () => {
    const dir = tempDir();
    const clock = { now: Date.UTC(2026, 10, 25, 13, 0, 0) };
    const first = await service(dir, clock);
    const refused = await service(dir, clock).then(() => null, (error: unknown) => error);
    expect(refused).toBeInstanceOf(DataDirInUse);
    expect((refused as Error).message).toBe(
      `the data dir ${dir} is in use by another modelpulse (this process): its lock ${join(dir, 'modelpulse.lock')} is held. ` +
        'Stop the other instance, or give this one a data dir of its own (MODELPULSE_DATA_DIR).',
    );
    await runFor(first, clock, 3 * 60_000);
    expect(first.store.outcomesSince('nano-banana', 0).length).toBeGreaterThanOrEqual(3);
    // Once the first has stopped, the dir is free again.
    await first.close();
    const second = await service(dir, clock);
    expect(second.store.outcomesSince('nano-banana', 0).length).toBeGreaterThanOrEqual(3);
  });

  it('takes over at once the lock of an instance that died without releasing it: gone from this host, or silent for long', async () => {
    const clock = { now: Date.UTC(2026, 10, 25, 13, 0, 0) };
    // A crash on this host: its pid is no longer running, though it renewed the lock just now.
    const crashed = tempDir();
    mkdirSync(join(crashed, 'modelpulse.lock'), { recursive: true });
    writeFileSync(join(crashed, 'modelpulse.lock.holder'), JSON.stringify({ pid: 2 ** 22 + 17, host: hostname() }));
    await expect(service(crashed, clock)).resolves.toBeTruthy();
    // Another host's instance that has not renewed its lock for an hour.
    const silent = tempDir();
    const lock = join(silent, 'modelpulse.lock');
    mkdirSync(lock, { recursive: true });
    writeFileSync(join(silent, 'modelpulse.lock.holder'), JSON.stringify({ pid: 1, host: 'another-container' }));
    const anHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(lock, anHourAgo, anHourAgo);
    await expect(service(silent, clock)).resolves.toBeTruthy();
  });

  it("refuses another host's lock while it is renewed (by default after waiting 12 s for it to go stale), naming its holder", async () => {
    const dir = tempDir();
    const lock = join(dir, 'modelpulse.lock');
    mkdirSync(lock, { recursive: true });
    writeFileSync(join(dir, 'modelpulse.lock.holder'), JSON.stringify({ pid: 1, host: 'another-container' }));
    const clock = { now: Date.UTC(2026, 10, 25, 13, 0, 0) };
    const refused = await service(dir, clock).then(() => null, (error: unknown) => error);
    expect((refused as Error).message).toContain('in use by another modelpulse (pid 1 on another-container)');
  });

  it('makes `npm start` of a second process on the same dir exit 1 with that message', async () => {
    const dir = tempDir();
    const start = () => spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', PORT: '0', MODELPULSE_DATA_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    const first = start();
    closers.push(() => new Promise((resolve) => (first.exitCode !== null ? resolve() : (first.once('exit', () => resolve()), first.kill('SIGTERM')))));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      first.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('modelpulse listening on')) resolve();
      });
      first.once('exit', (code) => reject(new Error(`the first instance exited with ${code}: ${out}`)));
    });
    const second = start();
    let err = '';
    second.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain(`modelpulse: failed to start: the data dir ${dir} is in use by another modelpulse`);
    expect(first.exitCode).toBeNull();
  }, 60_000);
});
