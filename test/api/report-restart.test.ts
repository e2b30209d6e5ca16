import { afterEach, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import type { Simulator } from '../../src/simulator/server.js';
import { runFor } from '../helpers/service.js';
import { useTempDir } from '../helpers/tmp.js';
import { MINUTE, world } from '../helpers/report-world.js';

const tempDir = useTempDir();
const running: Array<Service | Simulator> = [];
afterEach(async () => {
  for (const c of running.splice(0).reverse()) await c.close();
});

describe('reports that never voted', () => {
  it('stay out of /health after a restart, as they were before it', async () => {
    const dir = tempDir();
    const w = await world(dir, running);
    await runFor(w.service, w.clock, 10 * MINUTE);
    // One app is rate-limited by Google (its own 429s) and reports a flood of successes past its 6 votes/min.
    const reports = [
      ...Array.from({ length: 200 }, (_, i) => ({
        target: 'pro',
        at: w.clock.now - 60_000 + i,
        status: 429,
        latencyMs: 300,
      })),
      ...Array.from({ length: 800 }, (_, i) => ({
        target: 'pro',
        at: w.clock.now - 60_000 + i,
        status: 200,
        latencyMs: 20_000,
      })),
    ];
    const answer = (await (await w.post({ reports })).json()) as { accepted: number; counted: number };
    expect(answer).toMatchObject({ accepted: 1000, counted: 6 });
    const before = await w.health();
    // Restart on the same data directory at the same instant.
    const service = running.pop() as Service;
    await service.close();
    const again = await world(dir, running, w.clock);
    const after = await again.health();
    expect.soft(after.windows['1h'].samples, 'samples in the 1 h window').toBe(before.windows['1h'].samples);
    expect.soft(after.windows['1h'].successRate, '1 h success rate').toBe(before.windows['1h'].successRate);
    expect
      .soft(
        again.service.pipeline.engine.reportsSince('pro', w.clock.now - 2 * MINUTE, w.clock.now),
        'voting reports counted for "covered"',
      )
      .toBe(6);
  });
});
