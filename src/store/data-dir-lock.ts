import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { errorCode } from '../probes/http.js';

export interface DataDirLockOptions {
  /** A lock not renewed for this long belongs to a process that died (default 10 s; at least 2 s). */
  staleMs?: number;
  /** How long to wait at start for a lock not held by a running process of this host to go stale (default 12 s). */
  waitMs?: number;
}

export class DataDirInUse extends Error {}

const LOCK_NAME = 'modelpulse.lock';
/** Beside the lock (proper-lockfile removes the lock directory with rmdir, so it must stay empty). */
const HOLDER_NAME = 'modelpulse.lock.holder';
/** Dirs this process holds: a second service in it is refused at once (its holder file names our own pid). */
const heldHere = new Set<string>();

interface Holder {
  pid: number;
  host: string;
}

/**
 * Makes this process the data dir's one writer: two instances on one dir would both probe, both
 * mail and interleave their writes. The lock (a directory, created atomically) is renewed every
 * staleMs / 2 while the service runs, and names its holder. A live holder on this host is refused at
 * once; any other lock (a holder that crashed, a container restarted, another host) is waited for
 * until it has not been renewed for staleMs, so a lock still renewed is never taken. Resolves to
 * its release.
 */
export async function lockDataDir(
  given: string,
  options: DataDirLockOptions,
  onLost: (error: Error) => void,
): Promise<() => Promise<void>> {
  const dir = resolve(given);
  mkdirSync(dir, { recursive: true });
  const staleMs = Math.max(2_000, options.staleMs ?? 10_000);
  const waitMs = options.waitMs ?? 12_000;
  const lockfilePath = join(dir, LOCK_NAME);
  const holderPath = join(dir, HOLDER_NAME);
  const taken = async (wait: number) => {
    const release = await lockfile.lock(dir, {
      lockfilePath,
      realpath: false,
      stale: staleMs,
      update: staleMs / 2,
      retries: wait > 0 ? { retries: Math.ceil(wait / 500), minTimeout: 500, maxTimeout: 500, factor: 1 } : 0,
      onCompromised: onLost,
    });
    writeFileSync(holderPath, JSON.stringify({ pid: process.pid, host: hostname() } satisfies Holder));
    heldHere.add(dir);
    return async () => {
      heldHere.delete(dir);
      rmSync(holderPath, { force: true });
      // Already gone (taken over after a long stall): there is nothing left to release.
      await release().catch(() => undefined);
    };
  };
  if (heldHere.has(dir)) throw inUse(dir, lockfilePath, 'this process');
  try {
    return await taken(0);
  } catch (error) {
    if (errorCode(error) !== 'ELOCKED') throw error;
  }
  const holder = holderOf(holderPath);
  // A running process of this host that holds it: say so at once rather than after the wait.
  if (holder?.host === hostname() && holder.pid !== process.pid && alive(holder.pid))
    throw inUse(dir, lockfilePath, `pid ${holder.pid}`);
  try {
    return await taken(waitMs);
  } catch (error) {
    if (errorCode(error) !== 'ELOCKED') throw error;
    throw inUse(dir, lockfilePath, holder ? `pid ${holder.pid} on ${holder.host}` : 'holder unknown');
  }
}

function inUse(dir: string, lockfilePath: string, who: string): DataDirInUse {
  return new DataDirInUse(
    `the data dir ${dir} is in use by another modelpulse (${who}): its lock ${lockfilePath} is held. ` +
      'Stop the other instance, or give this one a data dir of its own (MODELPULSE_DATA_DIR).',
  );
}

function holderOf(holderPath: string): Holder | null {
  try {
    const parsed = JSON.parse(readFileSync(holderPath, 'utf8')) as Partial<Holder>;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string'
      ? { pid: parsed.pid, host: parsed.host }
      : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}
