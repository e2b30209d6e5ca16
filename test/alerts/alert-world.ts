import type { ParsedMail } from 'mailparser';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import type { AlertSettings, SmtpSettings, Target } from '../../src/config/target.js';
import type { Service } from '../../src/service.js';
import { presetTrace } from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import type { ReplyKind } from '../../src/simulator/wire.js';
import { fileConfig, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';

export const MINUTE = 60_000;
export const MODELS = {
  flash: 'gemini-2.5-flash-image',
  pro: 'gemini-3-pro-image-preview',
  legacy: 'gemini-2.0-flash-preview-image-generation',
} as const;

export interface ListedNotification {
  id: number;
  createdAt: string;
  target: string;
  kind: string;
  headline: string;
  grouped: boolean;
  channel: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  deliveredAt: string | null;
  deliveryId: string | null;
  subject: string | null;
}

/** One upstream reply kind per model; a scripted run of replies goes first, in probe order. */
export interface Upstream {
  set(kind: ReplyKind, model?: string): void;
  script(steps: ReadonlyArray<readonly [ReplyKind, number]>, model?: string): void;
}

export interface AlertWorld {
  dir: string;
  clock: { now: number };
  simulator: Simulator;
  upstream: Upstream;
  target(id: string, model: string, alerts?: Partial<Target['alerts']>): Target;
  start(targets: Target[], settings: Partial<AlertSettings>): Promise<Service>;
  later(close: () => Promise<void>): void;
}

/** Per test: a data directory, an injected clock, a forced-reply simulator; everything closed afterwards. */
export function useAlertWorld(): () => Promise<AlertWorld> {
  const tempDir = useTempDir();
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  return async () => {
    const dir = tempDir();
    const clock = { now: Date.UTC(2026, 10, 25, 13, 0, 0) };
    const simulator = await startSimulator({ trace: presetTrace('healthy'), now: () => clock.now });
    closers.push(() => simulator.close());
    const steady = new Map<string, ReplyKind>(Object.values(MODELS).map((m) => [m, 'ok']));
    const applySteady = () => {
      for (const [model, kind] of steady) simulator.force({ kind, model, delayMs: 0 });
    };
    const upstream: Upstream = {
      set(kind, model) {
        for (const m of steady.keys()) if (model === undefined || m === model) steady.set(m, kind);
        simulator.clearForced();
        applySteady();
      },
      script(steps, model) {
        simulator.clearForced();
        for (const [kind, times] of steps) simulator.force({ kind, times, delayMs: 0, ...(model ? { model } : {}) });
        applySteady();
      },
    };
    upstream.set('ok');
    return {
      dir,
      clock,
      simulator,
      upstream,
      target: (id, model, alerts = {}) => {
        const t = simulatedTarget(id, simulator.url, { model, every: 10_000, timeout: 5_000 });
        return { ...t, alerts: { ...t.alerts, ...alerts } };
      },
      start: async (targets, settings) => {
        const service = await startTestService(
          fileConfig(dir, targets, {
            dashboardUrl: 'https://modelpulse.example.com',
            groupWaitMs: 30_000,
            ...settings,
          }),
          clock,
        );
        closers.push(() => service.close());
        return service;
      },
      later: (close) => void closers.push(close),
    };
  };
}

export function emailSettings(
  port: number,
  login?: { user: string; pass: string },
): NonNullable<AlertSettings['email']> {
  const smtp: SmtpSettings = {
    host: '127.0.0.1',
    port,
    secure: false,
    requireTLS: false,
    user: login?.user,
    password: login?.pass,
    timeoutMs: 2_000,
  };
  return { to: ['oncall@example.com', 'team@example.com'], from: 'modelpulse@example.com', smtp };
}

/** A loopback port nobody listens on (yet). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function listedAlerts(
  service: Service,
  query = '',
): Promise<{ raw: string; notifications: ListedNotification[] }> {
  const response = await fetch(`${service.url}/api/alerts${query}`);
  const raw = await response.text();
  return { raw, notifications: (JSON.parse(raw) as { notifications: ListedNotification[] }).notifications };
}

export function subjects(mails: readonly ParsedMail[]): string[] {
  return mails.map((m) => m.subject ?? '');
}

export function recipients(mail: ParsedMail): string[] {
  const to = mail.to === undefined ? [] : Array.isArray(mail.to) ? mail.to : [mail.to];
  return to.flatMap((a) => a.value.map((v) => v.address ?? ''));
}

/** Counts of each distinct value: a mail that arrived twice shows up as 2. */
export function tally(values: ReadonlyArray<string | undefined>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v ?? '(none)'] = (counts[v ?? '(none)'] ?? 0) + 1;
  return counts;
}
