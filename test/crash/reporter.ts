/** One client report as the test sends it: its latency is its own number, so the stored row can be found again. */
export interface SentReport {
  target: string;
  at: number;
  status: number;
  outcome: 'ok';
  latencyMs: number;
  requestId: string;
}

/**
 * An app reporting its calls in small batches, one request at a time, as a real client library
 * would: a batch answered 2xx is acknowledged; one cut off (the service died, or was not up yet) or
 * answered 429/503 is sent again later, as it was, with the same request ids.
 */
export class CrashReporter {
  readonly acknowledged = new Set<number>();
  readonly sent = new Map<number, SentReport>();
  /** Answers that are neither 2xx nor a reason to retry: each one a failure of the test. */
  readonly unexpected: string[] = [];
  duplicatesAnswered = 0;
  private readonly unanswered: SentReport[][] = [];
  private readonly posting: Array<() => void> = [];
  private next = 1;
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly target: string,
    private readonly random: () => number,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops at once, acknowledged or not (a test that failed). */
  stop(): void {
    this.running = false;
  }

  /** Stops making new reports; resolves once every one sent so far is acknowledged. */
  async finish(timeoutMs: number): Promise<void> {
    this.running = false;
    await this.loop;
    const deadline = Date.now() + timeoutMs;
    while (this.unanswered.length > 0) {
      if (Date.now() > deadline) throw new Error(`${this.unanswered.flat().length} reports were never acknowledged`);
      await this.post(this.unanswered.shift()!);
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      const batch = this.unanswered.shift() ?? this.fresh(1 + Math.floor(this.random() * 4));
      await this.post(batch);
      await new Promise((resolve) => setTimeout(resolve, 20 + this.random() * 40));
    }
  }

  /** Resolves when the next request goes out: a kill then lands while the service may be writing it. */
  nextPost(): Promise<void> {
    return new Promise((resolve) => this.posting.push(resolve));
  }

  private fresh(size: number): SentReport[] {
    return Array.from({ length: size }, () => {
      const n = this.next++;
      const report: SentReport = {
        target: this.target,
        at: Date.now() - 500,
        status: 200,
        outcome: 'ok',
        latencyMs: 10_000 + n,
        requestId: `crash-${n}`,
      };
      this.sent.set(report.latencyMs, report);
      return report;
    });
  }

  private async post(batch: SentReport[]): Promise<void> {
    try {
      const sent = fetch(`${this.url}/api/reports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reports: batch }),
        signal: AbortSignal.timeout(3_000),
      });
      for (const resolve of this.posting.splice(0)) resolve();
      const response = await sent;
      const body = await response.text();
      if (response.ok) {
        for (const report of batch) this.acknowledged.add(report.latencyMs);
        this.duplicatesAnswered += (JSON.parse(body) as { duplicates: number }).duplicates;
        return;
      }
      if (response.status !== 429 && response.status !== 503)
        return void this.unexpected.push(`HTTP ${response.status}: ${body}`);
    } catch {
      // Refused or cut off: the service is down or restarting.
    }
    this.unanswered.push(batch);
  }
}
