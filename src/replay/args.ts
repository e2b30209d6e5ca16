import { parseArgs } from 'node:util';
import { parseDuration } from '../config/duration.js';
import { probeSchema } from '../config/schema.js';
import { InputError } from './errors.js';

const HOUR = 3_600_000;
const MAX_LENGTH_MS = 31 * 24 * HOUR;

export type ReplaySource =
  | { kind: 'trace'; file: string }
  | { kind: 'stored'; from: number; to: number; dataDir: string | null };

export interface ReplayOptions {
  source: ReplaySource;
  /** --target: the stored target(s) to replay, or the name the trace's target goes by. */
  target: string | null;
  /** Null: 60 s / 180 s for a trace, each target's configured cadence for stored history. */
  everyMs: number | null;
  timeoutMs: number | null;
  seed: number;
  /** --hours / --until; null: the trace's length, at most 7 days. */
  lengthMs: number | null;
  /** Raw `key=value` settings, validated against the config schemas in overrides.ts. */
  sets: string[];
  compare: boolean;
  json: boolean;
}

export const USAGE = [
  'usage: npm run replay -- --trace FILE [options]',
  '       npm run replay -- --from ISO --to ISO [--data DIR] [--target ID] [options]',
  'options: --every 60s  --timeout 180s  --seed 1  --hours N | --until 36h  --set health.holdEvidence=12 (repeatable)',
  '         --compare (without and with the --set overrides)  --json  --help',
].join('\n');

const OPTIONS = {
  trace: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  data: { type: 'string' },
  target: { type: 'string' },
  every: { type: 'string' },
  timeout: { type: 'string' },
  seed: { type: 'string' },
  hours: { type: 'string' },
  until: { type: 'string' },
  set: { type: 'string', multiple: true },
  compare: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses the command line, or 'help'; every problem is an InputError naming the option. */
export function parseReplayArgs(argv: readonly string[]): ReplayOptions | 'help' {
  const values = parse(argv);
  if (values.help) return 'help';
  const source = sourceOf(values);
  const lengthMs = lengthOf(values, source);
  const sets = values.set ?? [];
  if (values.compare && sets.length === 0)
    throw new InputError('--compare: needs at least one --set key=value to compare against');
  return {
    source,
    target: values.target ?? null,
    everyMs: values.every === undefined ? null : probeDuration('every', values.every),
    timeoutMs: values.timeout === undefined ? null : probeDuration('timeout', values.timeout),
    seed: seedOf(values.seed),
    lengthMs,
    sets,
    compare: values.compare === true,
    json: values.json === true,
  };
}

type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: false }>
>['values'];

function parse(argv: readonly string[]): Values {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    const named = /'(-[^' ]+)/.exec(message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new InputError(
        `${named ?? 'option'}: unknown option (known: ${Object.keys(OPTIONS)
          .map((o) => `--${o}`)
          .join(', ')})`,
      );
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const dash = message.includes('ambiguous') ? `; write a value starting with "-" as ${named}=-…` : '';
      throw new InputError(`${named ?? 'option'}: expects a value${dash}`);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new InputError(
        `${/'([^']*)'/.exec(message)?.[1] ?? 'argument'}: unexpected argument (options start with --)`,
      );
    }
    throw new InputError(message.split('\n')[0] ?? message);
  }
}

function sourceOf(values: Values): ReplaySource {
  const stored = values.from !== undefined || values.to !== undefined;
  if (values.trace !== undefined && stored)
    throw new InputError('--trace: replays a trace file; --from/--to replay stored history; use one or the other');
  if (values.trace !== undefined) {
    if (values.data !== undefined)
      throw new InputError('--data: only with --from/--to (a trace needs no data directory)');
    return { kind: 'trace', file: values.trace };
  }
  if (!stored) throw new InputError('expected --trace FILE, or --from ISO and --to ISO (see --help)');
  if (values.from === undefined) throw new InputError('--from: required with --to');
  if (values.to === undefined) throw new InputError('--to: required with --from');
  const from = instant('from', values.from);
  const to = instant('to', values.to);
  if (to <= from) throw new InputError(`--to: must be after --from (${values.from})`);
  return { kind: 'stored', from, to, dataDir: values.data ?? null };
}

function instant(option: string, text: string): number {
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(at))
    throw new InputError(
      `--${option}: expected an ISO date-time like 2026-03-01T12:00:00Z, got ${JSON.stringify(text)}`,
    );
  return at;
}

function lengthOf(values: Values, source: ReplaySource): number | null {
  if (values.hours === undefined && values.until === undefined) return null;
  const option = values.hours !== undefined ? '--hours' : '--until';
  if (source.kind === 'stored')
    throw new InputError(`${option}: only with --trace (stored history runs from --from to --to)`);
  if (values.hours !== undefined && values.until !== undefined)
    throw new InputError('--hours: give --hours or --until, not both');
  const ms =
    values.hours !== undefined
      ? /^\d+(\.\d+)?$/.test(values.hours)
        ? Number(values.hours) * HOUR
        : NaN
      : (parseDuration(values.until!) ?? NaN);
  const shown = JSON.stringify(values.hours ?? values.until);
  if (!(ms > 0))
    throw new InputError(
      `${option}: expected ${values.hours !== undefined ? 'a positive number of hours like 36' : 'a duration like "36h"'}, got ${shown}`,
    );
  if (ms > MAX_LENGTH_MS) throw new InputError(`${option}: at most 31 days (744 hours), got ${shown}`);
  return ms;
}

/** Probe cadence and deadline, validated by the config's own probe schema (same bounds and messages). */
function probeDuration(option: 'every' | 'timeout', text: string): number {
  const parsed = probeSchema.shape[option].safeParse(text);
  if (parsed.success && parsed.data !== undefined) return parsed.data;
  const message = parsed.success ? 'expected a duration' : (parsed.error.issues[0]?.message ?? 'invalid');
  throw new InputError(`--${option}: ${message}`);
}

function seedOf(text: string | undefined): number {
  if (text === undefined) return 1;
  if (!/^\d{1,9}$/.test(text))
    throw new InputError(`--seed: expected a whole number like 1, got ${JSON.stringify(text)}`);
  return Number(text);
}
