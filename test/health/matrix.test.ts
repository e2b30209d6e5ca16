import { describe, expect, it } from 'vitest';
import { CADENCES, runCell, type Cell } from '../../bench/health-matrix.js';

/**
 * Every scenario at the cadences users run (2 s to the 5 min Pro default, 180 s timeout), through
 * the real scheduler with its confirmation probes, the pipeline, the SQLite store and the alert
 * rules, against the simulator's upstream on an injected clock. Probes are counted from the moment
 * the upstream changed.
 */
const cadences = CADENCES.map((cadence) => [cadence.label, cadence] as const);
const SLOW_TIMEOUT = 60_000;

describe.each(cadences)('health verdicts at %s probes (180 s timeout)', (_label, cadence) => {
  const cell = (key: Parameters<typeof runCell>[0]): Promise<Cell> => runCell(key, cadence);

  it(
    'hard overload (95 % 503): holds within 3 probes, never sends during it, sends again within 3 probes of recovery',
    async () => {
      const c = await cell('hard');
      expect(c.toHold?.probes).toBeLessThanOrEqual(3);
      expect(c.falseRecoveries).toBe(0);
      expect(c.toSend?.probes).toBeLessThanOrEqual(3);
      // One episode: one incident, one onset mail and one recovery mail.
      expect(c.incidents).toBe(1);
      expect(c.mails).toBe(2);
    },
    SLOW_TIMEOUT,
  );

  it(
    '85 % 503 for an hour: holds within 4 probes and takes no lucky success for a recovery',
    async () => {
      const c = await cell('heavy');
      expect(c.toHold?.probes).toBeLessThanOrEqual(4);
      expect(c.falseRecoveries).toBe(0);
      expect(c.statesInEpisode).not.toContain('unknown');
      expect([c.incidents, c.mails]).toEqual([1, 2]);
    },
    SLOW_TIMEOUT,
  );

  it(
    'a hang (every call times out) holds after at most 2 timeouts, and is never sent to nor unknown while it hangs',
    async () => {
      const c = await cell('hang');
      expect(c.toHold).not.toBeNull();
      expect(c.timeoutsBeforeHold).toBeLessThanOrEqual(2);
      expect(c.falseRecoveries).toBe(0);
      expect(c.unknownSeconds).toBe(0);
      expect(c.statesInEpisode).not.toContain('unknown');
      expect([c.incidents, c.mails]).toEqual([1, 2]);
    },
    SLOW_TIMEOUT,
  );

  it(
    'slowness (14 s → 70 s, all succeed) is degraded within 3 probes with a timeout covering the slow calls, healthy within 3 probes after',
    async () => {
      const c = await cell('slow');
      expect(c.toDegraded?.probes).toBeLessThanOrEqual(3);
      expect(c.timeoutAdviceSeconds).toBeGreaterThanOrEqual(90);
      expect(c.toHold).toBeNull();
      // Degraded once, and so for the whole hour: the slow calls never become the baseline.
      expect(c.changes).toEqual(['healthy->degraded']);
      expect(c.toHealthy?.probes).toBeLessThanOrEqual(3);
    },
    SLOW_TIMEOUT,
  );

  it(
    'a steady 33 % 503 rate for an hour is one state, not a flip per probe: at most 2 changes and 1 incident',
    async () => {
      const c = await cell('partial');
      expect(c.changes.length).toBeLessThanOrEqual(2);
      expect(c.incidents).toBeLessThanOrEqual(1);
    },
    SLOW_TIMEOUT,
  );

  it(
    '80 % 429 holds, and for at least the retry delay the upstream asked for (37 s)',
    async () => {
      const c = await cell('limited');
      expect(c.toHold).not.toBeNull();
      expect(c.minRetryAfterSeconds).toBeGreaterThanOrEqual(37);
    },
    SLOW_TIMEOUT,
  );

  it(
    '80 % timeouts hold',
    async () => {
      const c = await cell('timeouts');
      expect(c.toHold).not.toBeNull();
      expect(c.statesInEpisode).not.toContain('unknown');
    },
    SLOW_TIMEOUT,
  );

  it(
    '20 % 500 stays healthy or degraded, with at most one change',
    async () => {
      const c = await cell('errors');
      expect(c.statesInEpisode.every((s) => s === 'healthy' || s === 'degraded')).toBe(true);
      expect(c.changes.length).toBeLessThanOrEqual(1);
      // With a few hundred probes in the hour the elevated error share is seen.
      if (c.probes >= 150) expect(c.statesInEpisode).toContain('degraded');
    },
    SLOW_TIMEOUT,
  );

  it(
    '3 % random errors for 24 h open no incident',
    async () => {
      const c = await cell('noise');
      expect(c.incidents).toBe(0);
      expect(c.changes).toEqual([]);
      expect(c.mails).toBe(0);
    },
    SLOW_TIMEOUT,
  );

  it(
    '503 on and off every 2 min for an hour is one incident, with no more than onset, FLAPPING and two summaries by mail',
    async () => {
      const c = await cell('onOff');
      expect(c.incidents).toBe(1);
      expect(c.mails).toBeLessThanOrEqual(4);
    },
    SLOW_TIMEOUT,
  );
});
