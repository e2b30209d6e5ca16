// Reports of an app's calls, sent to modelpulse in the background.

/** One call as POST /api/reports takes it. */
export interface Report {
  target: string;
  at: number;
  status: number | null;
  outcome?: 'timeout' | 'network';
  latencyMs: number;
  requestId?: string;
}

/** Reports kept while modelpulse cannot take them; the oldest go first past this. */
const REPORT_QUEUE_MAX = 1_000;
/** Reports of calls older than this are dropped unsent (modelpulse takes 24 h, less some clock skew). */
const REPORT_MAX_AGE_MS = 23 * 3_600_000;
/** After a failed send, reports wait at least this long (or the Retry-After) before the next try. */
const REPORT_RETRY_MS = 5_000;

/**
 * Sends reports in the background: one POST at a time, and whatever queued meanwhile goes in the
 * next one, so a busy app sends batches and a quiet one sends each call at once. After a failed
 * send the queue waits (an unref'd timer, which never keeps the process alive) and tries again.
 * Each report has a request id, so a batch resent after a lost answer is not counted twice.
 */
export class Reporter {
  private readonly queue: Report[] = [];
  private sending: Promise<void> | null = null;
  private pausedUntil = 0;

  constructor(
    private readonly modelpulseUrl: string,
    private readonly token: string,
    private readonly baseFetch: typeof fetch,
    private readonly now: () => number,
  ) {}

  add(report: Report): void {
    this.queue.push({
      ...report,
      latencyMs: Math.max(0, Math.round(report.latencyMs)),
      requestId: globalThis.crypto.randomUUID(),
    });
    if (this.queue.length > REPORT_QUEUE_MAX) this.queue.splice(0, this.queue.length - REPORT_QUEUE_MAX);
    if (this.now() >= this.pausedUntil) void this.kick();
  }

  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.sending) {
      const sent = await this.kick();
      if (!sent) return;
    }
  }

  /** Starts a send unless one is running; resolves true when that send (or the running one) succeeded. */
  private kick(): Promise<boolean> {
    if (this.sending) return this.sending.then(() => this.now() >= this.pausedUntil);
    if (this.queue.length === 0) return Promise.resolve(true);
    this.sending = this.send().finally(() => {
      this.sending = null;
      // Reports that queued meanwhile go next, now or once the pause is over, not with some later call.
      if (this.queue.length === 0) return;
      const wait = this.pausedUntil - this.now();
      if (wait <= 0) void this.kick();
      else setTimeout(() => void this.kick(), wait).unref?.();
    });
    return this.sending.then(() => this.now() >= this.pausedUntil);
  }

  private async send(): Promise<void> {
    // modelpulse refuses a report of a call more than 24 h old (and the whole batch with it): drop those first.
    const oldest = this.now() - REPORT_MAX_AGE_MS;
    if (this.queue.some((r) => r.at < oldest))
      this.queue.splice(0, this.queue.length, ...this.queue.filter((r) => r.at >= oldest));
    const batch = this.queue.splice(0, 1_000);
    if (batch.length === 0) return;
    try {
      const response = await this.baseFetch(`${this.modelpulseUrl.replace(/\/+$/, '')}/api/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
        body: JSON.stringify({ reports: batch }),
        signal: AbortSignal.timeout(5_000),
      });
      await response.body?.cancel().catch(() => {});
      if (response.ok) return;
      // Refused for good (a bad token, invalid reports): resending would fail the same way.
      if (response.status !== 429 && response.status < 500) return;
      const retryAfter = Number(response.headers.get('retry-after'));
      this.requeue(batch, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1_000 : REPORT_RETRY_MS);
    } catch {
      this.requeue(batch, REPORT_RETRY_MS);
    }
  }

  private requeue(batch: Report[], pauseMs: number): void {
    this.queue.unshift(...batch);
    if (this.queue.length > REPORT_QUEUE_MAX) this.queue.splice(0, this.queue.length - REPORT_QUEUE_MAX);
    this.pausedUntil = this.now() + pauseMs;
  }
}
