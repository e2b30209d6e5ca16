export type Level = 'info' | 'warn' | 'error';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * Plain one-line logs with a timestamp. Every line passes through redaction of the secrets the
 * service holds, so a key echoed by an upstream or an exception never reaches the log.
 */
export function createLogger(
  options: { secrets?: Iterable<string | undefined>; write?: (line: string) => void; now?: () => number } = {},
): Logger {
  const secrets = [...(options.secrets ?? [])].filter((s): s is string => typeof s === 'string');
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const now = options.now ?? Date.now;
  const line = (level: Level) => (message: string) =>
    write(`${new Date(now()).toISOString()} ${level.padEnd(5)} ${redact(message, secrets)}\n`);
  return { info: line('info'), warn: line('warn'), error: line('error') };
}

/** Replaces every secret (of 4 characters or more; shorter ones would shred ordinary text) with [redacted]. */
export function redact(text: string, secrets: readonly string[]): string {
  return secrets
    .filter((secret) => secret.length >= 4)
    .reduce((result, secret) => result.split(secret).join('[redacted]'), text);
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
