import { CANARY_LATENCY_SHARE, dayTrace, FLASH_DAY, WARMUP_MS } from './clients-day.js';
import { VirtualLoop } from './clients-loop.js';
import { emptyTally, startCrowd, type Crowd, type Population, type Tally } from './clients-populations.js';
import { FLASH_TARGET, startClientsWorld } from './clients-world.js';
import { TARGET } from './world.js';

const DAY_MS = 86_400_000;
/** The scripted day runs 00:00–24:00 UTC on this date; the service starts WARMUP_MS before. */
export const DAY_START = Date.UTC(2026, 10, 24, 0, 0, 0);
const REPORT_TOKEN = 'bench-report-token-0123456789';

/** 10 clients, not the 20: 20 take about 4 min here (population 3 sends ~40,000 loopback requests); --clients=20 runs them. */
export const DEFAULT_CROWD: Crowd = { clients: 10, images: 2_000, seed: 11, thinkMs: [30_000, 90_000], background: 1 };

export interface PopulationRun {
  population: Population;
  tally: Tally;
  /** Over Pro's and (row 3b) Flash's targets together; flashProbes and flashReportsStored: Flash's part. */
  probes: number;
  probeSpendUsd: number;
  reportsStored: number;
  flashProbes: number;
  flashReportsStored: number;
  /** The service's state changes during the day, as "HH:MM from→to" (Flash's prefixed "flash "). */
  changes: string[];
  realMs: number;
  requests: number;
}

/**
 * One population through the whole day against a fresh service: same day, same seeds. Only row 3b's
 * service watches Flash too (as Pro's alternative); rows 1–3 get the one-target service they always had.
 */
export async function runPopulation(population: Population, crowd: Crowd): Promise<PopulationRun> {
  const began = Date.now();
  const traceStart = DAY_START - WARMUP_MS;
  const withFlash = population === 'guardedAlt';
  const reportToken = population === 'guarded' || withFlash ? REPORT_TOKEN : null;
  const world = await startClientsWorld({
    startAt: traceStart,
    canary: dayTrace(CANARY_LATENCY_SHARE, undefined, crowd.background),
    seed: crowd.seed,
    reportToken,
    ...(withFlash ? { flashCanary: dayTrace(CANARY_LATENCY_SHARE, FLASH_DAY, crowd.background) } : {}),
  });
  try {
    const changes: string[] = [];
    world.service.pipeline.listen({
      transition: (t) => {
        if (t.at >= DAY_START)
          changes.push(
            `${t.targetId === FLASH_TARGET ? 'flash ' : ''}${new Date(t.at).toISOString().slice(11, 16)} ${t.from}→${t.to}`,
          );
      },
    });
    const loop = new VirtualLoop(world.clock, crowd.clients);
    const tally = emptyTally();
    const setup = {
      loop,
      trace: dayTrace(1, undefined, crowd.background),
      traceStart,
      dayStart: DAY_START,
      serviceUrl: world.service.url,
      reportToken,
      flashTrace: withFlash ? dayTrace(1, FLASH_DAY, crowd.background) : null,
    };
    const actors = startCrowd(population, crowd, setup, tally);
    await loop.drive(DAY_START + DAY_MS, world.outside);
    actors.close(world.clock.now);
    if (actors.failures.length > 0)
      throw new Error(`bench clients: ${population}: a client failed: ${String(actors.failures[0])}`, {
        cause: actors.failures[0],
      });
    const ofDay = (target: string) =>
      world.service.store.outcomesSince(target, DAY_START).filter((o) => o.at < DAY_START + DAY_MS);
    const outcomes = ofDay(TARGET);
    const flashOutcomes = withFlash ? ofDay(FLASH_TARGET) : [];
    const probes = [...outcomes, ...flashOutcomes].filter((o) => o.source === 'probe');
    const flashProbes = flashOutcomes.filter((o) => o.source === 'probe').length;
    return {
      population,
      tally,
      probes: probes.length,
      probeSpendUsd: probes.reduce((sum, o) => sum + o.costUsd, 0),
      reportsStored: outcomes.length + flashOutcomes.length - probes.length,
      flashProbes,
      flashReportsStored: flashOutcomes.length - flashProbes,
      changes,
      realMs: Date.now() - began,
      requests: loop.requests,
    };
  } finally {
    await world.close();
  }
}
