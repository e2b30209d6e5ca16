import { z } from 'zod';

const UNIT_MS = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
} as const;

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)$/;

/** Parses "500ms", "30s", "5m", "2h", "7d", "1w", "5y" into milliseconds; null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  const [, amount, unit] = match as unknown as [string, string, keyof typeof UNIT_MS];
  return Math.round(Number(amount) * UNIT_MS[unit]);
}

/** The largest whole unit a duration is written in: 300000 → "5m", 31536000000 → "1y", 1500 → "1500ms". */
export function formatDuration(ms: number): string {
  for (const unit of ['y', 'w', 'd', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** A duration written as "30s", "5m", …, kept as milliseconds, bounded to [min, max]. */
export function durationSchema(min = 0, max = Number.MAX_SAFE_INTEGER) {
  return z.string({ error: 'expected a duration like "30s"' }).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `expected a duration like "30s", got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration between ${formatDuration(min)} and ${formatDuration(max)}, got ${JSON.stringify(text)}`,
      });
      return z.NEVER;
    }
    return ms;
  });
}
