/**
 * A token bucket on an injected clock: `capacity` tokens, refilled at `capacity` per `periodMs`.
 * Pure arithmetic; callers keep one per key.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly capacity: number,
    private readonly periodMs: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.at = now;
  }

  private refill(now: number): void {
    if (now > this.at)
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) * this.capacity) / this.periodMs);
    this.at = Math.max(this.at, now);
  }

  /** Takes `n` tokens if all are there; otherwise takes none. */
  take(n: number, now: number): boolean {
    this.refill(now);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Milliseconds until `n` tokens are there (0 when they are; Infinity when n exceeds the capacity). */
  waitFor(n: number, now: number): number {
    this.refill(now);
    if (n > this.capacity) return Infinity;
    return this.tokens >= n ? 0 : Math.ceil(((n - this.tokens) * this.periodMs) / this.capacity);
  }
}
