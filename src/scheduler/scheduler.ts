import type { Target } from '../config/target.js';
import type { Outcome } from '../domain/outcome.js';
import { confirmDue, firstDue, nextDue, sanitizeDue, type Cadence } from './plan.js';
import type { CadenceDecision, SkipReason } from './budget.js';

export interface SchedulerOptions {
  targets: readonly Target[];
  probe: (target: Target, signal: AbortSignal) => Promise<Outcome>;
  onOutcome: (outcome: Outcome) => void;
  /** A probe started now: a probe in flight is data on its way, not "no data". */
  onStart?: (target: Target, at: number) => void;
  /** A probe ended, with or without an outcome recorded. */
  onDone?: (target: Target) => void;
  onError?: (target: Target, error: unknown) => void;
  now: () => number;
  random?: () => number;
  maxConcurrent: number;
  maxJitterMs: number;
  /**
   * Whether to look again sooner after this outcome (a failure, or a target not yet healthy):
   * a confirmation probe comes after a quarter interval, so onset and recovery are seen fast.
   */
  confirmSooner?: (outcome: Outcome) => boolean;
  /** The interval and whether to skip, decided when a probe falls due (budget, troubled, covered by reports); default: the configured interval. */
  cadence?: (target: Target, now: number) => CadenceDecision;
  /** A due probe was skipped. */
  onSkip?: (target: Target, decision: CadenceDecision & { skip: SkipReason }, now: number) => void;
}

interface Plan {
  target: Target;
  cadence: Cadence;
  dueAt: number;
  running: Promise<void> | null;
  skippedOverlaps: number;
  /** The interval last decided (the configured one, stretched or shortened). */
  effectiveEveryMs: number;
}

export interface PlanStatus {
  targetId: string;
  dueAt: number;
  running: boolean;
  skippedOverlaps: number;
  effectiveEveryMs: number;
}

/**
 * Starts canary probes when they are due. The service's node-cron heartbeat calls tick() every
 * second; every decision is taken there, so tests drive it with their own clock. A probe never overlaps
 * itself, at most maxConcurrent run at once, and each carries its own deadline.
 */
export class ProbeScheduler {
  private readonly plans: Plan[];
  private readonly byId: Map<string, Plan>;
  private readonly random: () => number;
  private readonly abort = new AbortController();
  private running = 0;
  private stopped = false;
  lastTickAt: number | null = null;

  constructor(private readonly options: SchedulerOptions) {
    this.random = options.random ?? Math.random;
    const now = options.now();
    this.plans = options.targets.map((target) => {
      const cadence = { everyMs: target.probe.every, maxJitterMs: options.maxJitterMs };
      return {
        target,
        cadence,
        dueAt: firstDue(now, cadence, this.random),
        running: null,
        skippedOverlaps: 0,
        effectiveEveryMs: cadence.everyMs,
      };
    });
    this.byId = new Map(this.plans.map((plan) => [plan.target.id, plan]));
  }

  /** Starts every due probe the concurrency cap allows; returns the ids started. */
  tick(): string[] {
    const now = this.options.now();
    this.lastTickAt = now;
    if (this.stopped) return [];
    const started: string[] = [];
    for (const plan of [...this.plans].sort((a, b) => a.dueAt - b.dueAt)) {
      plan.dueAt = sanitizeDue(plan.dueAt, now, this.effective(plan));
      if (plan.dueAt > now) continue;
      if (plan.running) {
        plan.skippedOverlaps++;
        plan.dueAt = nextDue(now, this.effective(plan), this.random);
        continue;
      }
      if (this.running >= this.options.maxConcurrent) continue;
      const decision = this.options.cadence?.(plan.target, now);
      if (decision) plan.effectiveEveryMs = decision.everyMs;
      plan.dueAt = nextDue(now, this.effective(plan), this.random);
      if (decision?.skip) {
        this.options.onSkip?.(plan.target, { ...decision, skip: decision.skip }, now);
        continue;
      }
      this.options.onStart?.(plan.target, now);
      plan.running = this.run(plan);
      started.push(plan.target.id);
    }
    return started;
  }

  /** The plan's cadence at the interval last decided. */
  private effective(plan: Plan): Cadence {
    return { ...plan.cadence, everyMs: plan.effectiveEveryMs };
  }

  private async run(plan: Plan): Promise<void> {
    this.running++;
    try {
      const outcome = await this.options.probe(plan.target, this.abort.signal);
      // A probe cut short by shutdown says nothing about the upstream: don't record it.
      if (this.abort.signal.aborted) return;
      this.options.onOutcome(outcome);
      if (this.options.confirmSooner?.(outcome))
        plan.dueAt = Math.min(plan.dueAt, confirmDue(this.options.now(), this.effective(plan)));
    } catch (error) {
      this.options.onError?.(plan.target, error);
    } finally {
      this.running--;
      plan.running = null;
      this.options.onDone?.(plan.target);
    }
  }

  /** When a target's next probe is due; null for an unknown target. */
  dueAt(targetId: string): number | null {
    return this.byId.get(targetId)?.dueAt ?? null;
  }

  status(): PlanStatus[] {
    return this.plans.map((p) => ({
      targetId: p.target.id,
      dueAt: p.dueAt,
      running: p.running !== null,
      skippedOverlaps: p.skippedOverlaps,
      effectiveEveryMs: p.effectiveEveryMs,
    }));
  }

  inFlight(): number {
    return this.running;
  }

  /** Stops scheduling, lets in-flight probes finish for up to graceMs, then aborts the rest. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    const inFlight = this.plans.map((p) => p.running).filter((p): p is Promise<void> => p !== null);
    if (inFlight.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(inFlight), grace]);
    clearTimeout(timer);
    this.abort.abort();
    await Promise.all(inFlight);
  }
}
