import { afterEach, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import type { Simulator } from '../../src/simulator/server.js';
import { runFor } from '../helpers/service.js';
import { useTempDir } from '../helpers/tmp.js';
import { APP1, APP2, MINUTE, world } from '../helpers/report-world.js';

const tempDir = useTempDir();
const running: Array<Service | Simulator> = [];
afterEach(async () => {
  for (const c of running.splice(0).reverse()) await c.close();
});

describe('each reporting app has its own latency baseline', () => {
  it('does not call a healthy target degraded because a second app makes slower (4K, multi-image) calls than the first', async () => {
    const w = await world(tempDir(), running);
    await runFor(w.service, w.clock, 10 * MINUTE);
    // app1: 15 s image calls every 10 s, for 20 min: that is the report baseline.
    for (let s = 0; s < 20 * 60; s += 10) {
      await w.post({ reports: [{ target: 'pro', at: w.clock.now - 15_000, status: 200, latencyMs: 15_000 }] }, APP1);
      await runFor(w.service, w.clock, 10_000);
    }
    expect((await w.health()).status).toBe('healthy');
    // app2 joins with its steady, always-successful 60 s calls; nothing changed upstream.
    const seen = new Set<string>();
    for (let s = 0; s < 20 * 60; s += 10) {
      await w.post({ reports: [{ target: 'pro', at: w.clock.now - 15_000, status: 200, latencyMs: 15_000 }] }, APP1);
      await w.post(
        { reports: [{ target: 'pro', at: w.clock.now - 60_000 + 1, status: 200, latencyMs: 60_000 }] },
        APP2,
      );
      await runFor(w.service, w.clock, 10_000);
      seen.add((await w.health()).status);
    }
    expect([...seen]).toEqual(['healthy']);
  }, 60_000);
});
