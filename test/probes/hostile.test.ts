import { describe, expect, it } from 'vitest';
import type { OutcomeClass } from '../../src/domain/outcome.js';
import type { Service } from '../../src/service.js';
import type { ReplyKind } from '../../src/simulator/wire.js';
import { MODELS, useAlertWorld } from '../alerts/alert-world.js';
import { simulatedTarget } from '../helpers/targets.js';

const SECOND = 1_000;
/** The probe deadline runs on real time (a socket's), so it is short here; the cadence runs on the injected clock. */
const DEADLINE = 2 * SECOND;
const MAX_BODY = 64 * 1024 * 1024;
const HOSTILE = 'hostile-relay';
const STEADY = 'steady-pro';

const HOSTILE_MODES: Array<[string, ReplyKind, OutcomeClass, RegExp]> = [
  ['accepts the call and never answers', 'hang', 'timeout', /^no complete reply within 2000 ms$/],
  ['sends its reply one byte a second', 'drip', 'timeout', /^no complete reply within 2000 ms$/],
  ['sends a 2 GiB body', 'huge', 'bad_output', /^response body exceeded 67108864 bytes$/],
  ['answers 200 with a body that is not JSON', 'invalid_json', 'bad_output', /not JSON/],
  ['closes the connection in the middle of its reply', 'close', 'network', /./],
];

/**
 * Ticks the service once per simulated second without waiting for probes to land, a few real
 * milliseconds apart, until the hostile target's first probe has ended: meanwhile the steady
 * target keeps its own schedule on the injected clock.
 */
async function runUntilHostileEnds(service: Service, clock: { now: number }): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    service.tick();
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (service.store.latestOutcome(HOSTILE)) return;
    clock.now += SECOND;
  }
  throw new Error('the hostile probe never ended');
}

describe.each([
  ['60 s', 60 * SECOND],
  ['5 min', 300 * SECOND],
])('hostile upstreams at %s probes', (_name, every) => {
  const world = useAlertWorld();

  it.each(HOSTILE_MODES)(
    'an upstream that %s (%s) ends as %s by its deadline, and another target keeps its schedule',
    async (_what, kind, cls, message) => {
      const w = await world();
      w.upstream.set(kind, MODELS.flash);
      const hostile = simulatedTarget(HOSTILE, w.simulator.url, { model: MODELS.flash, every, timeout: DEADLINE });
      const steady = simulatedTarget(STEADY, w.simulator.url, { model: MODELS.pro, every, timeout: DEADLINE });
      const service = await w.start([hostile, steady], {});
      const startedAt = w.clock.now;

      await runUntilHostileEnds(service, w.clock);

      const outcome = service.store.latestOutcome(HOSTILE)!;
      expect(outcome.class).toBe(cls);
      expect(outcome.message).toMatch(message);
      expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
      if (cls === 'timeout') expect(outcome.latencyMs).toBeGreaterThanOrEqual(DEADLINE - 50);
      // Every call ends by its deadline, whatever the upstream does (with room for a loaded machine).
      expect(outcome.latencyMs).toBeLessThan(DEADLINE + 5 * SECOND);
      if (kind === 'huge') {
        // Memory stays bounded: the probe stopped reading at its cap, long before the 2 GiB were sent.
        expect(w.simulator.streamedBytes()).toBeGreaterThan(MAX_BODY);
        expect(w.simulator.streamedBytes()).toBeLessThan(MAX_BODY + 32 * 1024 * 1024);
      }
      // The steady target was probed on its own schedule meanwhile: at the start and every interval since.
      const steadyCalls = service.store.outcomesSince(STEADY, 0);
      expect(steadyCalls.every((o) => o.class === 'ok')).toBe(true);
      const expected = Math.floor((w.clock.now - startedAt) / every) + 1;
      expect(steadyCalls.length).toBeGreaterThanOrEqual(expected - 1);
      expect(steadyCalls.map((o) => o.at)).toEqual(steadyCalls.map((_, i) => startedAt + i * every));
      // And the service still answers.
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    },
  );
});
