/**
 * A discrete-event loop for actors (simulated clients) on a virtual clock that still speak real
 * HTTP: an actor's sleep, or a simulated call, resolves when the clock reaches its time, and the
 * clock moves to the next pending time only once every actor is parked on such a wait (or done)
 * and no real I/O is queued or in flight. Real I/O runs one request at a time, in the order the
 * actors asked for it, so a run replays identically for a seed.
 */

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/** What else lives on the clock (the service's heartbeat, its probes): when it next wants the clock, and what it does then. */
export interface Outside {
  nextAt(now: number): number;
  step(now: number): Promise<void>;
}

/** How long (real time) the loop waits for an actor that neither parks nor finishes before it calls that a bug. */
const STUCK_MS = 30_000;

export class VirtualLoop {
  /** Pending waits, earliest first; ties in the order they were set. */
  private readonly timers: Timer[] = [];
  private seq = 0;
  private readonly lane: Array<() => Promise<void>> = [];
  private busy = false;
  private readonly idle: Array<() => void> = [];
  private finished = 0;
  /** Real requests sent through io(). */
  requests = 0;

  constructor(
    readonly clock: { now: number },
    private readonly actors: number,
  ) {}

  readonly now = (): number => this.clock.now;

  /** The injectable sleep: resolves at now + ms on the virtual clock; rejects at once if the signal aborts. */
  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    this.until(this.clock.now + Math.max(0, Math.round(ms)), signal);

  until(at: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer: Timer = {
        at,
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', abort);
          resolve();
        },
      };
      const abort = () => {
        const index = this.timers.indexOf(timer);
        if (index >= 0) this.timers.splice(index, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', abort, { once: true });
      let index = this.timers.length;
      while (index > 0 && this.timers[index - 1]!.at > at) index--;
      this.timers.splice(index, 0, timer);
    });
  }

  /** Real I/O: queued behind earlier requests; the clock stands still until it and what it starts have settled. */
  io<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.lane.push(() => work().then(resolve, reject));
      this.requests++;
      if (!this.busy) void this.pump();
    });
  }

  /** An actor has nothing more to do. */
  done(): void {
    this.finished++;
  }

  nextAt(): number | null {
    return this.timers[0]?.at ?? null;
  }

  /** Resolves every wait due by now, earliest first. */
  fire(): number {
    let fired = 0;
    while (this.timers.length > 0 && this.timers[0]!.at <= this.clock.now) {
      this.timers.shift()!.resolve();
      fired++;
    }
    return fired;
  }

  /** Settles when every actor is parked on a virtual wait or done, and no real I/O is queued or in flight. */
  async settle(): Promise<void> {
    const since = Date.now();
    for (;;) {
      if (this.busy) {
        await new Promise<void>((resolve) => this.idle.push(resolve));
        continue;
      }
      const parked = () => !this.busy && this.timers.length + this.finished >= this.actors;
      if (parked()) {
        await nextTurn();
        if (parked()) return;
        continue;
      }
      if (Date.now() - since > STUCK_MS)
        throw new Error(
          `virtual loop: ${this.actors - this.finished - this.timers.length} actor(s) neither wait on the virtual clock nor finish`,
        );
      await nextTurn();
    }
  }

  /**
   * Runs until `until` (the outside keeps its moments after every actor is done): settle, move the
   * clock to the earliest of the next wait and the outside's next moment, let the outside act, then
   * wake the waits now due.
   */
  async drive(until: number, outside?: Outside): Promise<void> {
    for (;;) {
      await this.settle();
      if (this.clock.now >= until) return;
      const next = Math.min(this.nextAt() ?? Infinity, outside?.nextAt(this.clock.now) ?? Infinity, until);
      this.clock.now = Math.max(this.clock.now, next);
      await outside?.step(this.clock.now);
      this.fire();
    }
  }

  private async pump(): Promise<void> {
    this.busy = true;
    while (this.lane.length > 0) {
      await this.lane.shift()!();
      // Let the caller's continuation run (and queue its next request) before the next request goes out.
      await nextTurn();
    }
    this.busy = false;
    for (const wake of this.idle.splice(0)) wake();
  }
}

export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
