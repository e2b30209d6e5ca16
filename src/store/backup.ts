import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** A problem with what was asked (the source or the destination), in one line naming it. */
export class BackupInputError extends Error {
  override name = 'BackupInputError';
  constructor(
    message: string,
    readonly subject: 'source' | 'destination',
  ) {
    super(message);
  }
}

export interface BackupProgress {
  totalPages: number;
  remainingPages: number;
}

export interface BackupOptions {
  /** Pages copied per step; the event loop runs between steps. */
  pagesPerStep?: number;
  /** After each step. A returned promise pauses the copy until it settles; the snapshot holds meanwhile. */
  onProgress?: (progress: BackupProgress) => void | Promise<void>;
}

export interface BackupResult {
  source: string;
  destination: string;
  pages: number;
  bytes: number;
}

/** better-sqlite3's own default, which its docs call a strong compromise between pause time and throughput. */
export const DEFAULT_PAGES_PER_STEP = 100;

/**
 * Copies a live database to `destination` with SQLite's online backup API while the service keeps
 * writing. The copy is written beside `destination`, must pass `PRAGMA integrity_check`, and only
 * then replaces it, so a failed run never leaves a half copy or clobbers an older good one.
 */
export async function backupDatabase(
  sourcePath: string,
  destinationPath: string,
  options: BackupOptions = {},
): Promise<BackupResult> {
  const source = resolve(sourcePath);
  const destination = resolve(destinationPath);
  const progress = stepper(options);
  if (!existsSync(source)) throw new BackupInputError(`no database at ${source}`, 'source');
  checkDestination(source, destination);
  const db = openSource(source);
  const temp = join(dirname(destination), `${basename(destination)}.tmp-${process.pid}`);
  try {
    rmSync(temp, { force: true });
    const copied = await db.backup(temp, { progress });
    db.exec('COMMIT');
    const problems = settleCopy(temp);
    if (problems.length !== 1 || problems[0] !== 'ok') {
      const shown = problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '');
      throw new Error(
        `the copy of ${source} failed PRAGMA integrity_check (${shown}); ${destination} was left as it was`,
      );
    }
    renameSync(temp, destination);
    return { source, destination, pages: copied.totalPages, bytes: statSync(destination).size };
  } catch (error) {
    rmSync(temp, { force: true });
    rmSync(`${temp}-journal`, { force: true });
    throw error;
  } finally {
    db.close();
  }
}

/**
 * Read-only, holding one read transaction from here to the end of the copy. In WAL mode that
 * snapshot never blocks the service's writes, and it is what lets the copy finish: without it,
 * every commit by another connection restarts SQLite's backup from page one.
 */
function openSource(source: string): Database.Database {
  let db: Database.Database | null = null;
  try {
    db = new Database(source, { readonly: true, fileMustExist: true });
    db.exec('BEGIN');
    db.prepare('SELECT COUNT(*) FROM sqlite_schema').get();
    if (db.pragma('user_version', { simple: true }) === 0) {
      throw new BackupInputError(
        `${source} is an SQLite file without modelpulse's schema; is it the right path?`,
        'source',
      );
    }
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof BackupInputError) throw error;
    if (error instanceof Database.SqliteError && error.code === 'SQLITE_NOTADB')
      throw new BackupInputError(`${source} is not an SQLite database`, 'source');
    throw new BackupInputError(
      `cannot read ${source}: ${error instanceof Error ? error.message : String(error)}`,
      'source',
    );
  }
}

function checkDestination(source: string, destination: string): void {
  const dir = dirname(destination);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new BackupInputError(`${destination}: directory ${dir} does not exist`, 'destination');
  }
  if (existsSync(destination) && statSync(destination).isDirectory()) {
    const example = join(destination, 'modelpulse-backup.sqlite');
    throw new BackupInputError(`${destination} is a directory; name the file to write, e.g. ${example}`, 'destination');
  }
  const live =
    ['', '-wal', '-shm', '-journal'].some((suffix) => destination === source + suffix) || sameFile(source, destination);
  if (live) {
    throw new BackupInputError(
      `${destination} is the live database (or one of its files); back up to another path`,
      'destination',
    );
  }
  // SQLite would replay that log into the new copy the next time anything opens it.
  if (existsSync(`${destination}-wal`)) {
    throw new BackupInputError(
      `${destination}-wal exists: ${destination} looks like a database in use; back up to another path`,
      'destination',
    );
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new BackupInputError(`${destination}: cannot write in ${dir} (permission denied)`, 'destination');
  }
}

/** Same file through a symlink or a hard link too. */
function sameFile(a: string, b: string): boolean {
  if (!existsSync(b)) return false;
  const [x, y] = [statSync(a), statSync(b)];
  return x.dev === y.dev && x.ino === y.ino;
}

/** better-sqlite3's progress hook returns the next step's page count; 0 keeps the copy paused while the caller's promise runs. */
function stepper(options: BackupOptions): (progress: BackupProgress) => number {
  const pages = options.pagesPerStep ?? DEFAULT_PAGES_PER_STEP;
  if (!Number.isInteger(pages) || pages < 1)
    throw new RangeError(`pagesPerStep: expected a whole number of at least 1, got ${pages}`);
  let state: 'copying' | 'paused' | 'resuming' = 'copying';
  let failure: { error: unknown } | null = null;
  return ({ totalPages, remainingPages }) => {
    if (failure) throw failure.error;
    if (state === 'paused') return 0;
    if (state === 'resuming') {
      state = 'copying';
      return pages;
    }
    const pending = options.onProgress?.({ totalPages, remainingPages });
    if (!(pending instanceof Promise)) return pages;
    state = 'paused';
    pending.then(
      () => void (state = 'resuming'),
      (error: unknown) => {
        failure = { error };
        state = 'resuming';
      },
    );
    return 0;
  };
}

/**
 * Makes the copy one self-contained file (rollback journal, so no -wal beside it is ever needed;
 * the service switches it back to WAL when it opens it) and returns what integrity_check found.
 */
export function settleCopy(path: string): string[] {
  const copy = new Database(path, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
    return (copy.pragma('integrity_check') as Array<{ integrity_check: string }>).map((row) => row.integrity_check);
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  } finally {
    copy.close();
  }
}
