/** Reading untrusted JSON (upstream replies, status pages) without trusting its shape. */

export type JsonObject = Record<string, unknown>;

/** The value as an object (not an array, not null), or null. */
export function asObject(value: unknown): JsonObject | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : null;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A property of an object; undefined for anything that is not one. */
export function field(value: unknown, key: string): unknown {
  return asObject(value)?.[key];
}

export function numberOr(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A non-empty string, as sent (not trimmed), or null. */
export function stringOr(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
