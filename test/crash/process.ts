import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, readFileSync, utimesSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'src', 'main.js');

/** One run of `node dist/src/main.js`: what it printed, and how it ended. */
export interface ServiceProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  output: { stdout: string; stderr: string };
  spawnedAt: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnService(env: Record<string, string>, cwd: string): ServiceProcess {
  const child = spawn(process.execPath, [MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  // 'close', not 'exit': by then everything it wrote has been read.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, output, spawnedAt: Date.now(), exited };
}

/** Resolves with the service's URL once it printed its listening line; fails at once if it exited first. */
export async function listening(service: ServiceProcess, timeoutMs = 15_000): Promise<string> {
  const started = Date.now();
  for (;;) {
    const url = /modelpulse listening on (http:\/\/\S+)/.exec(service.output.stdout)?.[1];
    if (url) return url;
    if (service.child.exitCode !== null || service.child.signalCode !== null) {
      throw new Error(
        `the service exited (${service.child.exitCode ?? service.child.signalCode}) before listening:\n${service.output.stdout}\n${service.output.stderr}`,
      );
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `the service did not listen within ${timeoutMs} ms:\n${service.output.stdout}\n${service.output.stderr}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function sigkill(service: ServiceProcess): Promise<void> {
  service.child.kill('SIGKILL');
  const { signal } = await service.exited;
  if (signal !== 'SIGKILL')
    throw new Error(`expected the service to die of SIGKILL, it ended with ${signal}:\n${service.output.stderr}`);
}

/**
 * A killed holder's lock goes stale after 10 s without renewal, and the next start waits for that
 * (test/store/data-dir-lock.test.ts covers the wait). Here its last renewal is moved back instead,
 * so each restart starts at once, down the same path that takes a stale lock.
 */
export function ageLock(dataDir: string): void {
  const lock = join(dataDir, 'modelpulse.lock');
  if (!existsSync(lock)) return;
  const longAgo = new Date(Date.now() - 60_000);
  utimesSync(lock, longAgo, longAgo);
}

/** The pid the data dir's lock names as its holder (null: none yet, or being written). */
export function holderPid(dataDir: string): number | null {
  try {
    return (JSON.parse(readFileSync(join(dataDir, 'modelpulse.lock.holder'), 'utf8')) as { pid?: number }).pid ?? null;
  } catch {
    return null;
  }
}

/** A loopback port free right now, so every restart listens where the reporter sends. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The notification rows a start found cut off mid-send, from its warning line (0 when it printed none). */
export function interruptedSends(stdout: string): number {
  return Number(/alerts: (\d+) notification\(s\) were being sent when the service stopped/.exec(stdout)?.[1] ?? 0);
}
