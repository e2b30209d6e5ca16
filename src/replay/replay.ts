import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { alertsSchema, targetAlerts } from '../config/alerts-schema.js';
import { healthSchema } from '../config/health-schema.js';
import { resolvePrice } from '../config/pricing.js';
import { configSchema, probeSchema } from '../config/schema.js';
import type { Target } from '../config/target.js';
import { staleAfter } from '../health/engine.js';
import { parseTrace, traceLength, type Trace } from '../simulator/scenario.js';
import type { ReplayOptions, ReplaySource } from './args.js';
import { delaysOf, matchIncidents, troubleSpans, type Delays, type IncidentMatch, type Trouble } from './delays.js';
import { InputError } from './errors.js';
import { readHistory } from './history.js';
import { NO_OVERRIDES, parseOverrides, withOverrides, type Overrides } from './overrides.js';
import { replayConfig } from './service-config.js';
import type { IncidentSpan, StateChange } from './simulation.js';
import { runStored } from './stored-run.js';
import { inTraceTime, runTrace, type RunOutput } from './trace-run.js';

type StoredSource = Extract<ReplaySource, { kind: 'stored' }>;

/** Where a trace's simulated time begins: a UTC midnight, so "utc-day" traces line up with their offsets. */
export const TRACE_T0 = Date.UTC(2026, 0, 5);
const DAY = 86_400_000;
const MAX_DEFAULT_LENGTH_MS = 7 * DAY;
const TRACE_MODEL = 'gemini-3-pro-image-preview';

export interface RunReport extends Omit<RunOutput, 'changes'> {
  /** Each target's first verdict, from unknown when the replay starts. */
  firstVerdicts: StateChange[];
  /** Every state change after the first verdicts. */
  changes: StateChange[];
  label: 'as configured' | 'with --set';
  targets: Array<{
    id: string;
    everyMs: number;
    timeoutMs: number;
    health: Target['health'];
    alerts: Target['alerts'];
  }>;
  groupWaitMs: number;
  elapsedMs: number;
  /** Trace: per target, one entry per stretch of trouble. */
  delays: Array<{ targetId: string; trouble: Trouble; delays: Delays }>;
  /** Stored history: the stored incidents beside the replay's. */
  incidentMatches: IncidentMatch[];
  newIncidents: IncidentSpan[];
}

export interface ReplayReport {
  mode: 'trace' | 'stored';
  /** The trace file or the database's data directory. */
  source: string;
  timing: string;
  start: number;
  end: number;
  seed: number | null;
  overrides: string[];
  troubles: Trouble[];
  storedIncidents: IncidentSpan[];
  notes: string[];
  runs: RunReport[];
}

/** Runs what the options ask for: one replay, or with --compare the same replay without and with the --set overrides. */
export async function replay(
  options: ReplayOptions,
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<ReplayReport> {
  const overrides = parseOverrides(options.sets);
  return options.source.kind === 'trace'
    ? replayTrace(options, options.source.file, overrides, cwd)
    : replayStored(options, options.source, overrides, env, cwd);
}

async function replayTrace(
  options: ReplayOptions,
  file: string,
  overrides: Overrides,
  cwd: string,
): Promise<ReplayReport> {
  const target = traceTarget(options.target ?? 'replay', options.everyMs, options.timeoutMs);
  // Every --set is checked before anything runs, so a typo does not wait for the first run to finish.
  const plans = variants(options, overrides).map(([label, set]) => ({
    label,
    ...withOverrides(target, alertsSchema.parse({}).groupWait, set),
  }));
  const written = readTrace(resolve(cwd, file), file);
  const trace = inTraceTime(written);
  const lengthMs = options.lengthMs ?? Math.min(traceLength(trace), MAX_DEFAULT_LENGTH_MS);
  const start = TRACE_T0;
  const end = start + lengthMs;
  const troubles = troubleSpans(trace, start, end);
  const runs: RunReport[] = [];
  for (const { label, target: tuned, groupWaitMs } of plans) {
    const began = performance.now();
    const scheduler = configSchema.shape.scheduler.parse(undefined);
    const output = await runTrace({
      trace: written,
      target: tuned,
      start,
      lengthMs,
      seed: options.seed,
      groupWaitMs,
      scheduler,
    });
    const delays = delaysOf(troubles, end, tuned.id, output.changes, output.mails).map((d, i) => ({
      targetId: tuned.id,
      trouble: troubles[i]!,
      delays: d,
    }));
    const elapsedMs = performance.now() - began;
    runs.push({
      ...output,
      ...split(output.changes),
      label,
      targets: [described(tuned)],
      groupWaitMs,
      elapsedMs,
      delays,
      incidentMatches: [],
      newIncidents: [],
    });
  }
  const notes = [
    ...(written.timeScale === 1
      ? []
      : [`the trace's timeScale ${written.timeScale} (for the live simulator) is undone: offsets replay as written`]),
    ...(trace.latencyScale === 1
      ? []
      : [`latencies replay at ${trace.latencyScale} × as written (the trace's latencyScale × timeScale)`]),
  ];
  return {
    mode: 'trace',
    source: file,
    timing:
      'real ProbeScheduler: first probe within the jitter, then every interval ±10 % (at most ±15 s), confirmation probes a quarter interval after a failure',
    start,
    end,
    seed: options.seed,
    overrides: overrides.written,
    troubles,
    storedIncidents: [],
    notes,
    runs,
  };
}

async function replayStored(
  options: ReplayOptions,
  source: StoredSource,
  overrides: Overrides,
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<ReplayReport> {
  const { from, to } = source;
  const { config, targets } = replayConfig(env, cwd);
  const chosen = options.target === null ? targets : targets.filter((t) => t.id === options.target);
  if (chosen.length === 0)
    throw new InputError(
      `--target: no configured target "${options.target}" (configured: ${targets.map((t) => t.id).join(', ') || 'none'})`,
    );
  const probed = chosen.map((t) => ({
    ...t,
    probe: { ...t.probe, every: options.everyMs ?? t.probe.every, timeout: options.timeoutMs ?? t.probe.timeout },
  }));
  const plans = variants(options, overrides).map(([label, set]) => ({
    label,
    tuned: probed.map((t) => withOverrides(t, config.alerts.groupWaitMs, set)),
  }));
  const dataDir = resolve(cwd, source.dataDir ?? config.dataDir);
  const ids = probed.map((t) => t.id);
  const history = readHistory(dataDir, ids, from, to);
  if (history.outcomes.length === 0) {
    const range = `${new Date(from).toISOString()} to ${new Date(to).toISOString()}`;
    const present = history.present.join(', ') || 'none';
    throw new InputError(
      `--from/--to: no stored outcomes of ${ids.join(', ')} from ${range} in ${dataDir} (targets with outcomes then: ${present})`,
    );
  }
  const notes = probed.flatMap((target) => {
    const oldest = history.oldest.get(target.id) ?? null;
    if (oldest === null || !history.outcomes.some((o) => o.targetId === target.id))
      return [`${target.id}: no stored outcomes in the range`];
    // Later than a probe could have come: raw outcomes were pruned (retention.raw), or the target was added since.
    const late = oldest - from > staleAfter(target.probe.every, target.probe.timeout);
    if (!late) return [];
    return [
      `${target.id}: the oldest stored outcome is from ${new Date(oldest).toISOString()} (added since, or older ones pruned by retention.raw); before that it replays as no data`,
    ];
  });
  const runs: RunReport[] = [];
  for (const { label, tuned } of plans) {
    const groupWaitMs = tuned[0]!.groupWaitMs;
    const began = performance.now();
    const output = await runStored({
      targets: tuned.map((t) => t.target),
      outcomes: history.outcomes,
      start: from,
      end: to,
      groupWaitMs,
      votesPerMinute: config.reports?.votesPerMinute,
    });
    const { matches, unmatched } = matchIncidents(history.incidents, output.incidents, to);
    const elapsedMs = performance.now() - began;
    const targets = tuned.map((t) => described(t.target));
    runs.push({
      ...output,
      ...split(output.changes),
      label,
      targets,
      groupWaitMs,
      elapsedMs,
      delays: [],
      incidentMatches: matches,
      newIncidents: unmatched,
    });
  }
  return {
    mode: 'stored',
    source: dataDir,
    timing: 'as recorded: each stored probe starts and lands when it did (no scheduler runs)',
    start: from,
    end: to,
    seed: null,
    overrides: overrides.written,
    troubles: [],
    storedIncidents: history.incidents,
    notes: [`configuration: ${config.origin}`, ...notes],
    runs,
  };
}

/** Each target's first change, when it comes out of the unknown it starts in, is its first verdict, not a change. */
export function split(changes: readonly StateChange[]): { firstVerdicts: StateChange[]; changes: StateChange[] } {
  const judged = new Set<string>();
  const firstVerdicts: StateChange[] = [];
  const later: StateChange[] = [];
  for (const change of changes) {
    if (!judged.has(change.targetId) && change.from === 'unknown') firstVerdicts.push(change);
    else later.push(change);
    judged.add(change.targetId);
  }
  return { firstVerdicts, changes: later };
}

/** The runs to make: with --compare, first without the overrides. */
function variants(options: ReplayOptions, overrides: Overrides): Array<['as configured' | 'with --set', Overrides]> {
  const tuned: ['as configured' | 'with --set', Overrides] = [
    overrides.written.length > 0 ? 'with --set' : 'as configured',
    overrides,
  ];
  return options.compare ? [['as configured', NO_OVERRIDES], tuned] : [tuned];
}

function readTrace(path: string, file: string): Trace {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`--trace ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`--trace ${file}: not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return parseTrace(json);
  } catch (error) {
    throw new InputError(
      `--trace ${file}: ${(error instanceof Error ? error.message : String(error)).replace(/^trace: /, '')}`,
    );
  }
}

/** The one target a trace is replayed against: a Gemini text canary with every knob at its default. */
export function traceTarget(id: string, everyMs: number | null, timeoutMs: number | null): Target {
  const probe = probeSchema.parse({});
  return {
    id,
    name: id,
    provider: 'gemini',
    model: TRACE_MODEL,
    baseUrl: 'http://replay.invalid',
    apiKey: 'replay-not-a-key',
    probe: { ...probe, every: everyMs ?? probe.every, timeout: timeoutMs ?? probe.timeout },
    price: resolvePrice(TRACE_MODEL, undefined),
    health: healthSchema.parse({}),
    alternatives: [],
    alerts: targetAlerts(alertsSchema.parse({}), undefined),
  };
}

function described(target: Target): RunReport['targets'][number] {
  return {
    id: target.id,
    everyMs: target.probe.every,
    timeoutMs: target.probe.timeout,
    health: target.health,
    alerts: target.alerts,
  };
}
