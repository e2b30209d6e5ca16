import type { Target } from '../config/target.js';
import type { Outcome } from '../domain/outcome.js';
import { nextSecond } from './clock.js';
import { Simulation } from './simulation.js';
import { ReportVotes } from '../health/reports.js';
import type { RunOutput } from './trace-run.js';

export interface StoredRun {
  targets: readonly Target[];
  /** In time order. */
  outcomes: readonly Outcome[];
  start: number;
  end: number;
  groupWaitMs: number;
  /** reports.votesPerMinute: client reports vote as the service lets them (default 6). */
  votesPerMinute?: number;
}

/**
 * Feeds stored outcomes to a fresh pipeline as the service met them: each probe is in flight from
 * its start to the heartbeat after it completed, when it lands (reports land then too), with the
 * same heartbeat grid as a trace run. Probe timing is as recorded; no scheduler runs.
 */
export async function runStored(run: StoredRun): Promise<RunOutput> {
  const simulation = new Simulation(run.targets, { start: run.start, groupWaitMs: run.groupWaitMs });
  const { clock, pipeline } = simulation;
  const startAt = (o: Outcome) => Math.ceil(o.at / 1_000) * 1_000;
  // A probe lands at a heartbeat after the one that started it, however fast it was.
  const landAt = (o: Outcome) =>
    Math.max(Math.ceil((o.at + o.latencyMs) / 1_000) * 1_000, o.source === 'probe' ? startAt(o) + 1_000 : 0);
  const starting = run.outcomes.filter((o) => o.source === 'probe');
  const landing = [...run.outcomes].sort((a, b) => landAt(a) - landAt(b));
  const inFlight = new Set<Outcome>();
  const votes = new ReportVotes(run.votesPerMinute ?? 6);
  let started = 0;
  let landed = 0;
  try {
    while (clock.now < run.end) {
      for (; landed < landing.length && landAt(landing[landed]!) <= clock.now; landed++) {
        const outcome = landing[landed]!;
        // A report moves health only as the service let it: voting classes, within each app's share.
        if (
          outcome.source === 'report' &&
          !votes.admit(outcome.reporter ?? 'unknown', outcome.targetId, outcome.class, clock.now)
        )
          continue;
        pipeline.record(outcome);
        if (outcome.source === 'probe') pipeline.done(outcome.targetId);
        inFlight.delete(outcome);
      }
      await simulation.heartbeat(() => {
        for (; started < starting.length && startAt(starting[started]!) <= clock.now; started++) {
          const outcome = starting[started]!;
          inFlight.add(outcome);
          pipeline.started(outcome.targetId, outcome.at);
        }
      });
      const next = Math.min(
        started < starting.length ? startAt(starting[started]!) : Infinity,
        landed < landing.length ? landAt(landing[landed]!) : Infinity,
        simulation.nextCheckpoint(inFlight.size > 0 ? Math.min(...[...inFlight].map((o) => o.at)) : null),
      );
      clock.now = nextSecond(clock.now, next);
    }
    await simulation.flush();
    return { ...simulation.recording, incidents: simulation.incidents(), probes: landed, skippedOverlaps: 0 };
  } finally {
    await simulation.close();
  }
}
