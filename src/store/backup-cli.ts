import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import { BackupInputError, backupDatabase } from './backup.js';
import { DATABASE_FILE } from './store.js';

type Env = Record<string, string | undefined>;

const USAGE = [
  'usage: npm run backup -- FILE [--data DIR]',
  'Copies the live database to FILE while the service runs, then checks the copy with PRAGMA integrity_check.',
  'The database is found as the service finds it (MODELPULSE_CONFIG or ./modelpulse.yaml, MODELPULSE_DATA_DIR);',
  '--data DIR names the data directory instead.',
].join('\n');

const OPTIONS = { data: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

/** A bad command line or configuration: exit 2, like a bad source or destination. */
class UsageError extends Error {
  override name = 'UsageError';
}

/** Where the service keeps its database, and how we know, for a message when it is not there. */
interface Located {
  path: string;
  hint: string;
}

/**
 * `npm run backup -- FILE`: copies the database while the service keeps probing and serving.
 * Exit 0 when the copy is in place and sound, 2 for a bad option, setting, source or destination
 * (one line naming it), 1 when the copy itself failed.
 */
async function main(argv: string[], env: Env, cwd: string): Promise<number> {
  let located: Located | null = null;
  try {
    const args = parse(argv);
    if (args === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    located = locate(args.data, env, cwd);
    const result = await backupDatabase(located.path, resolve(cwd, args.file));
    const mib = (result.bytes / 1024 / 1024).toFixed(1);
    const size = `${result.pages} pages, ${mib} MiB`;
    process.stdout.write(`backup: copied ${result.source} to ${result.destination} (${size}); integrity_check ok\n`);
    return 0;
  } catch (error) {
    if (error instanceof BackupInputError || error instanceof UsageError) {
      const hint =
        error instanceof BackupInputError && error.subject === 'source' && located ? ` (${located.hint})` : '';
      process.stderr.write(`backup: ${error.message}${hint}\n`);
      return 2;
    }
    process.stderr.write(`backup: failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function parse(argv: string[]): { file: string; data: string | undefined } | 'help' {
  // biome-ignore lint/suspicious/noImplicitAnyLet: TypeScript types it from the assignment inside the try below
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const named = /'(-[^' ]+)/.exec(message)?.[1] ?? 'option';
    const code = error instanceof Error && 'code' in error ? error.code : undefined;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new UsageError(`${named}: unknown option (known: --data, --help)\n${USAGE}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(`${named}: expects a value\n${USAGE}`);
    throw new UsageError(`${message.split('\n')[0] ?? message}\n${USAGE}`);
  }
  if (parsed.values.help) return 'help';
  const [file, ...extra] = parsed.positionals;
  if (file === undefined) throw new UsageError(`expected the file to write the copy to\n${USAGE}`);
  if (extra.length > 0) throw new UsageError(`${extra[0]}: unexpected argument; give one FILE\n${USAGE}`);
  return { file, data: parsed.values.data };
}

/** The same configuration main() loads, for its data directory; --data skips it (no API keys needed then). */
function locate(data: string | undefined, env: Env, cwd: string): Located {
  if (data !== undefined)
    return { path: resolve(cwd, data, DATABASE_FILE), hint: `data directory ${data}, given with --data` };
  // biome-ignore lint/suspicious/noImplicitAnyLet: TypeScript types it from the assignment inside the try below
  let config;
  try {
    config = loadConfig(env, cwd);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new UsageError(`configuration error (read to find the data directory; or pass --data DIR)\n${error.message}`);
  }
  const how =
    env.MODELPULSE_DATA_DIR !== undefined
      ? 'from MODELPULSE_DATA_DIR'
      : config.mode === 'file'
        ? `from ${config.origin}`
        : 'by default, as no modelpulse.yaml is here';
  return {
    path: resolve(cwd, config.dataDir, DATABASE_FILE),
    hint: `data directory ${config.dataDir} ${how}; run this where the service runs, or pass --data DIR`,
  };
}

void main(process.argv.slice(2), process.env, process.cwd()).then((code) => {
  process.exitCode = code;
});
