import type { Target } from '../config/target.js';
import { ProbeScheduler } from '../scheduler/scheduler.js';
import { seededRandom } from '../simulator/random.js';
import type { Trace } from '../simulator/scenario.js';
import { virtualUpstream } from '../simulator/virtual.js';
import { nextSecond } from './clock.js';
import { Simulation, type IncidentSpan, type Recording } from './simulation.js';

export interface TraceRun {
  trace: Trace;
  target: Target;
  start: number;
  lengthMs: number;
  seed: number;
  groupWaitMs: number;
  scheduler: { maxConcurrent: number; maxJitter: number };
  /** Keep the run's SQLite store here instead of a temporary directory (tests replay it from SQLite). */
  dataDir?: string;
}

export interface RunOutput extends Recording {
  incidents: IncidentSpan[];
  /** Outcomes that landed in the run. */
  probes: number;
  /** Probes the scheduler skipped because the one before was still running (a probe never overlaps itself). */
  skippedOverlaps: number;
}

/**
 * Replays a trace in its own time against the real ProbeScheduler (jitter, no overlap, confirmation
 * probes) and the simulator's virtual upstream; the clock jumps from event to event, at whole seconds
 * as the service's heartbeat runs, so a simulated day at 60 s probes costs a second or two.
 */
export async function runTrace(run: TraceRun): Promise<RunOutput> {
  const simulation = new Simulation([run.target], {
    start: run.start,
    groupWaitMs: run.groupWaitMs,
    dataDir: run.dataDir,
  });
  const { clock, pipeline } = simulation;
  let failure: unknown = null;
  let probeStartedAt = run.start;
  const upstream = virtualUpstream({
    trace: inTraceTime(run.trace),
    now: () => clock.now,
    random: seededRandom(run.seed),
    startedAt: run.start,
  });
  const scheduler = new ProbeScheduler({
    targets: [run.target],
    probe: (target, signal) => upstream.probe(target, signal),
    onOutcome: (outcome) => pipeline.record(outcome),
    onStart: (target, at) => {
      probeStartedAt = at;
      pipeline.started(target.id, at);
    },
    onDone: (target) => pipeline.done(target.id),
    onError: (_target, error) => (failure ??= error),
    now: () => clock.now,
    random: seededRandom(run.seed + 1),
    maxConcurrent: run.scheduler.maxConcurrent,
    maxJitterMs: run.scheduler.maxJitter,
    confirmSooner: (outcome) => pipeline.engine.unsettled(outcome.targetId),
  });
  const end = run.start + run.lengthMs;
  let started = 0;
  let landed = 0;
  try {
    while (clock.now < end) {
      landed += upstream.settle(clock.now);
      await untilLanded(() => scheduler.inFlight() <= started - landed);
      if (failure !== null) throw failure;
      await simulation.heartbeat(() => (started += scheduler.tick().length));
      const checkpoint = simulation.nextCheckpoint(scheduler.inFlight() > 0 ? probeStartedAt : null);
      const due = Math.min(
        scheduler.dueAt(run.target.id) ?? Infinity,
        upstream.nextCompletion() ?? Infinity,
        checkpoint,
      );
      clock.now = nextSecond(clock.now, due);
    }
    const skippedOverlaps = scheduler.status()[0]?.skippedOverlaps ?? 0;
    await scheduler.stop(0);
    await simulation.flush();
    return { ...simulation.recording, incidents: simulation.incidents(), probes: landed, skippedOverlaps };
  } finally {
    await simulation.close();
  }
}

/**
 * The trace as written: offsets and latencies in real time. A file made for the live simulator may
 * compress time (timeScale) and scale latencies to match; replay undoes both and keeps their ratio.
 */
export function inTraceTime(trace: Trace): Trace {
  const latencyScale = (trace.latencyScale ?? 1 / trace.timeScale) * trace.timeScale;
  return { ...trace, timeScale: 1, latencyScale };
}

/** Lets calls that completed run through the scheduler into the pipeline (promise turns, no real waiting). */
async function untilLanded(done: () => boolean): Promise<void> {
  for (let turns = 0; !done(); turns++) {
    if (turns > 100) throw new Error('replay: a completed probe did not reach the pipeline');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
