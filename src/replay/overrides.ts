import type { z } from 'zod';
import { alertsSchema, targetAlertsSchema, type TargetAlertsConfig } from '../config/alerts-schema.js';
import { DEFAULT_THRESHOLDS, healthSchema, type HealthThresholds } from '../config/health-schema.js';
import { formatPath } from '../config/load.js';
import type { Target } from '../config/target.js';
import { InputError } from './errors.js';

/** `--set` settings, grouped by the schema that validates them; values as written (numbers and booleans read as such). */
export interface Overrides {
  /** As given, for the output header. */
  written: string[];
  health: Record<string, unknown>;
  /** Knobs a target may override (alerts-schema.ts targetAlertsSchema). */
  alerts: Record<string, unknown>;
  flapping: Record<string, unknown>;
  groupWait?: unknown;
}

export const NO_OVERRIDES: Overrides = { written: [], health: {}, alerts: {}, flapping: {} };

const ALERT_KNOBS = [
  ...Object.keys(targetAlertsSchema.shape),
  'groupWait',
  'flapping.window',
  'flapping.high',
  'flapping.low',
];

/** Reads `health.holdEvidence=8`, `alerts.recoveredFor=10m`, `alerts.flapping.high=0.4`; values are checked by withOverrides. */
export function parseOverrides(sets: readonly string[]): Overrides {
  const overrides: Overrides = { written: [], health: {}, alerts: {}, flapping: {} };
  for (const set of sets) {
    const equals = set.indexOf('=');
    if (equals <= 0)
      throw new InputError(`--set ${set}: expected key=value, like health.holdEvidence=12 or alerts.recoveredFor=10m`);
    const key = set.slice(0, equals).trim();
    const value = parsedValue(set.slice(equals + 1).trim());
    const [section, knob, ...rest] = key.split('.');
    if (section === 'health' && knob && rest.length === 0) overrides.health[knob] = value;
    else if (section === 'alerts' && knob === 'flapping' && rest.length === 1) overrides.flapping[rest[0]!] = value;
    else if (section === 'alerts' && knob === 'groupWait' && rest.length === 0) overrides.groupWait = value;
    else if (section === 'alerts' && knob && knob !== 'flapping' && rest.length === 0) overrides.alerts[knob] = value;
    else if (section === 'health' || section === 'alerts')
      throw new InputError(`--set ${key}: unknown ${section} knob (${section} knobs: ${knobList(section)})`);
    else throw new InputError(`--set ${key}: unknown section "${section}" (expected health.<knob> or alerts.<knob>)`);
    overrides.written.push(`${key}=${set.slice(equals + 1).trim()}`);
  }
  return overrides;
}

/** The target with its health and alert knobs overridden, validated merged with its own by the real schemas. */
export function withOverrides(
  target: Target,
  groupWaitMs: number,
  overrides: Overrides,
): { target: Target; groupWaitMs: number } {
  if (overrides.written.length === 0) return { target, groupWaitMs };
  const health = check(
    'health',
    healthSchema.safeParse({ ...written(target.health), ...overrides.health }),
    overrides.health,
  );
  const own = check('alerts', targetAlertsSchema.safeParse(overrides.alerts), overrides.alerts);
  const group = check(
    'alerts',
    alertsSchema.safeParse({
      ...(overrides.groupWait === undefined ? {} : { groupWait: overrides.groupWait }),
      ...(Object.keys(overrides.flapping).length === 0
        ? {}
        : { flapping: { ...target.alerts.flap, ...overrides.flapping } }),
    }),
    { groupWait: overrides.groupWait, flapping: overrides.flapping },
  );
  const flap = Object.keys(overrides.flapping).length === 0 ? target.alerts.flap : group.flapping;
  return {
    target: { ...target, health, alerts: { ...withKnobs(target.alerts, own), flap } },
    groupWaitMs: overrides.groupWait === undefined ? groupWaitMs : group.groupWait,
  };
}

/**
 * A target's alert knobs with overrides written as in the config (alerts-schema.ts targetAlertsSchema,
 * durations already in ms): `recoveredFor` sets recoveredForMs, as targetAlerts() names them.
 */
function withKnobs(knobs: Target['alerts'], own: TargetAlertsConfig): Target['alerts'] {
  const named: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(own))
    if (value !== undefined) named[`${key}Ms` in knobs ? `${key}Ms` : key] = value;
  return Object.assign({ ...knobs }, named);
}

/** The thresholds as a config file writes them, so they validate merged with an override. */
function written(health: HealthThresholds): Record<string, unknown> {
  return { ...health, slowMin: `${health.slowMin}ms` };
}

function check<T>(section: 'health' | 'alerts', result: z.ZodSafeParseResult<T>, given: Record<string, unknown>): T {
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const where = [...issue.path, issue.keys[0] ?? '?'];
    throw new InputError(
      `--set ${section}.${formatPath(where)}: unknown ${section} knob (${section} knobs: ${knobList(section)})`,
    );
  }
  const message = issue.message.replace(/^Invalid input: /, '');
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const field = `${section}.${formatPath(path)}`;
  const value = valueAt(given, path);
  // A value the user wrote is quoted back; a check across fields names the field it failed on.
  throw new InputError(
    value === undefined ? `--set: ${field}: ${message}` : `--set ${field}=${String(value)}: ${message}`,
  );
}

function valueAt(given: Record<string, unknown>, path: ReadonlyArray<string | number>): unknown {
  let value: unknown = given;
  for (const part of path)
    value = value && typeof value === 'object' ? (value as Record<string | number, unknown>)[part] : undefined;
  return value !== null && typeof value === 'object' ? undefined : value;
}

function parsedValue(text: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return text;
}

function knobList(section: 'health' | 'alerts'): string {
  return (section === 'health' ? Object.keys(DEFAULT_THRESHOLDS) : ALERT_KNOBS).join(', ');
}
