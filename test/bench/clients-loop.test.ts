import { describe, expect, it } from 'vitest';
import { VirtualLoop, type Outside } from '../../bench/clients-loop.js';
import { seededRandom } from '../../src/simulator/random.js';

const realDelay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts `count` actors running `body`; each is done when its body returns. */
function actors(loop: VirtualLoop, count: number, body: (i: number) => Promise<void>): void {
  for (let i = 0; i < count; i++) void body(i).finally(() => loop.done());
}

describe('the clients benchmark loop on a virtual clock', () => {
  it('wakes sleepers in time order, and those due at once in the order they slept', async () => {
    const loop = new VirtualLoop({ now: 0 }, 3);
    const woke: string[] = [];
    actors(loop, 3, async (i) => {
      await loop.sleep([5_000, 1_000, 5_000][i]!);
      woke.push(`${i}@${loop.now()}`);
      await loop.sleep(500);
      woke.push(`${i}@${loop.now()}`);
    });

    await loop.drive(60_000);

    expect(woke).toEqual(['1@1000', '1@1500', '0@5000', '2@5000', '0@5500', '2@5500']);
  });

  it('holds the clock while real I/O is in flight, and until its caller waits again', async () => {
    const loop = new VirtualLoop({ now: 0 }, 2);
    const seen: string[] = [];
    actors(loop, 2, async (i) => {
      if (i === 0) {
        const answer = await loop.io(async () => {
          await realDelay(30);
          return 'answer';
        });
        seen.push(`io ${answer} @${loop.now()}`);
        await Promise.resolve();
        await loop.io(async () => realDelay(10));
        seen.push(`second io @${loop.now()}`);
        await loop.sleep(10);
        seen.push(`slept @${loop.now()}`);
      } else {
        await loop.sleep(1);
        seen.push(`sleeper @${loop.now()}`);
      }
    });

    await loop.drive(1_000);

    expect(seen).toEqual(['io answer @0', 'second io @0', 'sleeper @1', 'slept @10']);
  });

  it('holds the clock for I/O its actor did not wait for (a report sent in the background)', async () => {
    const loop = new VirtualLoop({ now: 0 }, 1);
    const seen: string[] = [];
    actors(loop, 1, async () => {
      void loop.io(async () => {
        await realDelay(30);
        seen.push(`report landed @${loop.now()}`);
      });
      await loop.sleep(1_000);
      seen.push(`next call @${loop.now()}`);
    });

    await loop.drive(5_000);

    expect(seen).toEqual(['report landed @0', 'next call @1000']);
  });

  it('sends real requests one at a time, in the order they were asked for', async () => {
    const loop = new VirtualLoop({ now: 0 }, 3);
    const log: string[] = [];
    let inFlight = 0;
    actors(loop, 3, async (i) => {
      await loop.io(async () => {
        inFlight++;
        log.push(`start ${i} (${inFlight} in flight)`);
        await realDelay([20, 1, 5][i]!);
        inFlight--;
      });
    });

    await loop.drive(1_000);

    expect(log).toEqual(['start 0 (1 in flight)', 'start 1 (1 in flight)', 'start 2 (1 in flight)']);
    expect(loop.requests).toBe(3);
  });

  it("lets the outside act at its own moments, between the actors' wakes, until the end", async () => {
    const loop = new VirtualLoop({ now: 0 }, 1);
    const log: string[] = [];
    const outside: Outside = {
      nextAt: (now) => Math.floor(now / 1_000) * 1_000 + 1_000,
      step: async (now) => void (now % 1_000 === 0 && log.push(`tick @${now}`)),
    };
    actors(loop, 1, async () => {
      await loop.sleep(1_500);
      log.push(`actor @${loop.now()}`);
      await loop.sleep(10_000);
      log.push('never: the run ends first');
    });

    await loop.drive(3_000, outside);

    expect(log).toEqual(['tick @1000', 'actor @1500', 'tick @2000', 'tick @3000']);
    expect(loop.clock.now).toBe(3_000);
  });

  it('rejects a wait whose signal aborts, and counts the actor as no longer waiting', async () => {
    const loop = new VirtualLoop({ now: 0 }, 1);
    const controller = new AbortController();
    const outcome: string[] = [];
    actors(loop, 1, async () => {
      const waiting = loop.sleep(60_000, controller.signal).then(
        () => 'woke',
        (error: unknown) => `aborted: ${String(error)}`,
      );
      controller.abort('caller gave up');
      outcome.push(await waiting);
    });

    await loop.drive(120_000);

    expect(outcome).toEqual(['aborted: caller gave up']);
    expect(loop.nextAt()).toBeNull();
  });

  it('replays a run identically though real I/O takes a different time on each run', async () => {
    const run = async (realJitterSeed: number) => {
      const loop = new VirtualLoop({ now: 0 }, 4);
      const jitter = seededRandom(realJitterSeed);
      const trace: string[] = [];
      let shared = 0;
      actors(loop, 4, async (i) => {
        const dice = seededRandom(i + 1);
        for (let step = 0; step < 5; step++) {
          await loop.sleep(Math.floor(dice() * 3) * 1_000);
          const seenShared = await loop.io(async () => {
            await realDelay(Math.floor(jitter() * 4));
            return ++shared;
          });
          trace.push(`${i}:${step}@${loop.now()} saw ${seenShared}`);
        }
      });
      await loop.drive(60_000);
      return trace;
    };

    const first = await run(1);

    expect(await run(2)).toEqual(first);
    expect(first).toHaveLength(20);
  });
});
