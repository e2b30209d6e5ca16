import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Service, ServiceOptions } from '../../src/service.js';
import { DataDirInUse, type DataDirLockOptions } from '../../src/store/data-dir-lock.js';
import { presetTrace } from '../../src/simulator/scenario.js';
import { startSimulator } from '../../src/simulator/server.js';
import { fileConfig, runFor, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'src', 'main.js');
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('one writer per data dir', () => {
  const tempDir = useTempDir();

  async function service(
    dir: string,
    clock: { now: number },
    lock: DataDirLockOptions = {},
    options: ServiceOptions = {},
    port = 0,
  ): Promise<Service> {
    const simulator = await startSimulator({ trace: presetTrace('healthy'), now: () => clock.now });
    closers.push(() => simulator.close());
    simulator.force({ kind: 'ok', delayMs: 0 });
    const config = fileConfig(dir, [
      simulatedTarget('nano-banana', simulator.url, { every: 60_000, timeout: 180_000 }),
    ]);
    const started = await startTestService({ ...config, server: { ...config.server, port } }, clock, {
      dataDirLock: { waitMs: 0, ...lock },
      ...options,
    });
    closers.push(() => started.close());
    return started;
  }

  it('refuses a second instance on the same data dir, naming the dir and the way out, while the first keeps probing', async () => {
    const dir = tempDir();
    const clock = { now: Date.UTC(2026, 10, 25, 13, 0, 0) };
    const first = await service(dir, clock);
    const refused = await service(dir, clock).then(
      () => null,
      (error: unknown) => error,
    );
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

  it('takes a lock nobody renewed for long at once, waits out one renewed moments ago, and never takes one still renewed', async () => {
    const clock = { now: Date.UTC(2026, 10, 25, 13, 0, 0) };
    const leftBy = (dir: string, holder: { pid: number; host: string }, renewedMsAgo: number) => {
      const lock = join(dir, 'modelpulse.lock');
      mkdirSync(lock, { recursive: true });
      writeFileSync(join(dir, 'modelpulse.lock.holder'), JSON.stringify(holder));
      const at = new Date(Date.now() - renewedMsAgo);
      utimesSync(lock, at, at);
    };
    // Silent for an hour: its holder died long ago, wherever it ran.
    const silent = tempDir();
    leftBy(silent, { pid: 1, host: 'another-container' }, 3_600_000);
    await expect(service(silent, clock)).resolves.toBeTruthy();
    // Renewed 1.5 s ago by a holder that is gone: taken once it has gone 2 s without renewal.
    const crashed = tempDir();
    leftBy(crashed, { pid: 2 ** 22 + 17, host: hostname() }, 1_500);
    await expect(service(crashed, clock, { staleMs: 2_000, waitMs: 3_000 })).resolves.toBeTruthy();
    // Renewed just now, naming this host and our own pid (two containers on one host, both pid 1): not taken.
    const renewed = tempDir();
    leftBy(renewed, { pid: process.pid, host: hostname() }, 0);
    const refused = await service(renewed, clock).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DataDirInUse);
  });

  it('stops the service, and says so, when another instance takes its lock', async () => {
    const dir = tempDir();
    const clock = { now: Date.UTC(2026, 10, 25, 13, 0, 0) };
    let lostWith: Error | null = null;
    const logs: string[] = [];
    const first = await service(
      dir,
      clock,
      { staleMs: 2_000 },
      { onLockLost: (error) => (lostWith = error), logWrite: (line) => logs.push(line), log: undefined },
    );
    // Another instance's doing: the lock goes, and a new one appears that this one did not make.
    rmSync(join(dir, 'modelpulse.lock'), { recursive: true, force: true });
    mkdirSync(join(dir, 'modelpulse.lock'));
    await waitFor(() => lostWith !== null, 'the lost lock to be noticed', 5_000);
    expect(logs.some((l) => /error +data dir lock lost .*; this one stops/.test(l))).toBe(true);
    await expect(fetch(`${first.url}/healthz`)).rejects.toThrow();
  });

  it('frees the data dir when the start fails after taking it (a port in use)', async () => {
    const dir = tempDir();
    const clock = { now: Date.UTC(2026, 10, 25, 13, 0, 0) };
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => busy.close(() => resolve())));
    const port = (busy.address() as AddressInfo).port;
    const failed = await service(dir, clock, {}, {}, port).then(
      () => null,
      (error: unknown) => error,
    );
    expect(String(failed)).toContain('EADDRINUSE');
    await expect(service(dir, clock)).resolves.toBeTruthy();
  });

  it("refuses another host's lock while it is renewed (by default after waiting 12 s for it to go stale), naming its holder", async () => {
    const dir = tempDir();
    const lock = join(dir, 'modelpulse.lock');
    mkdirSync(lock, { recursive: true });
    writeFileSync(join(dir, 'modelpulse.lock.holder'), JSON.stringify({ pid: 1, host: 'another-container' }));
    const clock = { now: Date.UTC(2026, 10, 25, 13, 0, 0) };
    const refused = await service(dir, clock).then(
      () => null,
      (error: unknown) => error,
    );
    expect((refused as Error).message).toContain('in use by another modelpulse (pid 1 on another-container)');
  });

  it('makes `npm start` of a second process on the same dir exit 1 with that message', async () => {
    const dir = tempDir();
    const start = () =>
      spawn(process.execPath, [MAIN], {
        env: { PATH: process.env.PATH ?? '', PORT: '0', MODELPULSE_DATA_DIR: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const first = start();
    closers.push(
      () =>
        new Promise((resolve) => {
          if (first.exitCode !== null) return resolve();
          first.once('exit', () => resolve());
          first.kill('SIGTERM');
        }),
    );
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
