import {
  createGuardedFetch,
  fullJitter,
  ModelPulseHoldError,
  type Advice,
  type FetchInput,
} from '../src/client/index.js';
import { seededRandom } from '../src/simulator/random.js';
import { conditionsAt, drawReply, type Trace } from '../src/simulator/scenario.js';
import { EPISODE_SHARE } from './clients-day.js';
import { geminiError, geminiSuccess } from '../src/simulator/wire.js';
import type { VirtualLoop } from './clients-loop.js';
import { FLASH_MODEL, FLASH_TARGET, MODEL, PROBE_TIMEOUT_MS } from './clients-world.js';
import { TARGET } from './world.js';

/** guardedAlt is row 3b: the guarded fetch with Flash mapped as Pro's alternative; the others call Pro only. */
export const POPULATIONS = ['backoff', 'gated', 'guarded', 'guardedAlt'] as const;
export type Population = (typeof POPULATIONS)[number];

/** N clients, each wanting M images one after another, with a think time (uniform in the range) between them. */
export interface Crowd {
  clients: number;
  images: number;
  seed: number;
  thinkMs: readonly [number, number];
  /** The day's 503 shares outside the overload episodes, scaled by this (1: the day as scripted). */
  background: number;
}

export interface Tally {
  /** Model calls sent, and those answered 503. */
  calls: number;
  overloaded: number;
  /** 503s answered while the day was in one of Pro's overload episodes (80 % or more 503), Flash's included. */
  overloadedInEpisodes: number;
  images: number;
  /** Per UTC hour of the day: calls sent, 503s, images delivered. */
  hours: Array<{ calls: number; overloaded: number; images: number }>;
  /** From wanting an image to having it, per delivered image. */
  timesMs: number[];
  /** Jobs still wanted when the day ended, and the oldest one's age. */
  openJobs: number;
  oldestOpenMs: number;
  /**
   * GET /health/{target} sent (Pro's, and in row 3b Flash's); answers that said hold; ModelPulseHoldErrors;
   * calls to Pro sent while Pro's last advice said hold.
   */
  asks: number;
  heldAnswers: number;
  holdErrors: number;
  halfOpenSends: number;
  /** Calls the guarded fetch cut at their advised deadline (each a failed attempt of its job), Flash's included. */
  cutAtDeadline: number;
  /** Calls that ran past Pro's last advised timeoutSeconds uncut: those of row 2, whose client sets no deadline. */
  pastDeadline: number;
  /** How often Pro's /health advised each timeoutSeconds. */
  timeoutAdvice: Record<number, number>;
  /** POST /api/reports sent by the client library, and the reports the service accepted. */
  reportPosts: number;
  reportsAccepted: number;
  /** Of the figures above, what went to Flash (row 3b only): model calls, 503s, images. */
  flash: { calls: number; overloaded: number; images: number };
}

export interface CrowdSetup {
  loop: VirtualLoop;
  /** The image calls' trace and when it starts (the warm-up's start). */
  trace: Trace;
  traceStart: number;
  dayStart: number;
  serviceUrl: string;
  /** Passed to createGuardedFetch as reportToken; null: no reports. */
  reportToken: string | null;
  /** Flash's image-call trace (same start), for row 3b; null: the clients know no alternative. */
  flashTrace: Trace | null;
}

/** The last advice this client read from /health. */
interface Seen {
  send: boolean;
  timeoutMs: number | null;
}

type Attempt = { image: true } | { image: false; retryAfterMs: number | null };

const MODEL_URL = `https://generativelanguage.googleapis.com/v1beta/models/${MODEL}:generateContent`;
const FLASH_URL = `https://generativelanguage.googleapis.com/v1beta/models/${FLASH_MODEL}:generateContent`;
const REQUEST: RequestInit = {
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-goog-api-key': 'bench-key' },
  body: JSON.stringify({
    contents: [{ parts: [{ text: 'a banana in a tuxedo' }] }],
    generationConfig: { responseModalities: ['TEXT', 'IMAGE'] },
  }),
};
const BACKOFF_ATTEMPTS = 5;
/** The /health-gated client asks again after the advised retry-after, but at least this often. */
export const GATE_RECHECK_CAP_MS = 60_000;
const HOLD_POLL_MS = 5_000;
const HOUR_MS = 3_600_000;
const NULL_BODY = new Set([101, 204, 205, 304]);

export function emptyTally(): Tally {
  return {
    calls: 0,
    overloaded: 0,
    overloadedInEpisodes: 0,
    images: 0,
    hours: Array.from({ length: 24 }, () => ({ calls: 0, overloaded: 0, images: 0 })),
    timesMs: [],
    openJobs: 0,
    oldestOpenMs: 0,
    asks: 0,
    heldAnswers: 0,
    holdErrors: 0,
    halfOpenSends: 0,
    cutAtDeadline: 0,
    pastDeadline: 0,
    timeoutAdvice: {},
    reportPosts: 0,
    reportsAccepted: 0,
    flash: { calls: 0, overloaded: 0, images: 0 },
  };
}

/**
 * Starts the crowd's actors on the loop (each parks until its first want, staggered over the first
 * think time) and returns what reads their open jobs at the end. Each client has its own seeded
 * dice for the upstream's replies and its own for jitter and think times.
 */
export function startCrowd(
  population: Population,
  crowd: Crowd,
  setup: CrowdSetup,
  tally: Tally,
): { close(now: number): void; failures: unknown[] } {
  const wanting = new Map<number, number>();
  const failures: unknown[] = [];
  for (let i = 0; i < crowd.clients; i++) {
    const random = seededRandom(crowd.seed * 1_000 + i);
    const dice = seededRandom(crowd.seed * 1_000 + 500 + i);
    const think = () => crowd.thinkMs[0] + random() * (crowd.thinkMs[1] - crowd.thinkMs[0]);
    // Flash's replies come from their own dice, so Pro's draws follow the same sequence as in the other rows.
    const flashDice = seededRandom(1_000_000 + crowd.seed * 1_000 + i);
    const attempt = strategy(population, setup, tally, random, dice, flashDice);
    const actor = async () => {
      await setup.loop.until(setup.dayStart + Math.floor(random() * crowd.thinkMs[1]));
      for (let job = 0; job < crowd.images; job++) {
        const wantedAt = setup.loop.now();
        wanting.set(i, wantedAt);
        for (;;) {
          const result = await attempt();
          if (result.image) break;
          await setup.loop.sleep(result.retryAfterMs ?? think());
        }
        wanting.delete(i);
        tally.images++;
        hourOf(tally, setup, setup.loop.now()).images++;
        tally.timesMs.push(setup.loop.now() - wantedAt);
        await setup.loop.sleep(think());
      }
    };
    void actor()
      .catch((error: unknown) => failures.push(error))
      .finally(() => setup.loop.done());
  }
  return {
    failures,
    close(now) {
      tally.openJobs = wanting.size;
      tally.oldestOpenMs = Math.max(0, ...[...wanting.values()].map((at) => now - at));
    },
  };
}

function strategy(
  population: Population,
  setup: CrowdSetup,
  tally: Tally,
  random: () => number,
  dice: () => number,
  flashDice: () => number,
): () => Promise<Attempt> {
  const seen: Seen = { send: true, timeoutMs: null };
  const model = upstreamFetch(setup, setup.trace, MODEL, tally, dice, seen);
  const loopback = loopbackFetch(setup.loop, tally, seen);
  const delivered = async (response: Response): Promise<Attempt> => {
    await response.arrayBuffer();
    return response.status === 200 ? { image: true } : { image: false, retryAfterMs: null };
  };
  switch (population) {
    case 'backoff':
      return async () => {
        for (let attempt = 1; ; attempt++) {
          const response = await model(MODEL_URL, REQUEST);
          if (response.status === 200 || attempt >= BACKOFF_ATTEMPTS || !retryable(response.status))
            return delivered(response);
          await response.arrayBuffer();
          await setup.loop.sleep(fullJitter(attempt, random));
        }
      };
    case 'gated':
      return async () => {
        for (;;) {
          const advice = await ask(loopback, setup.serviceUrl);
          if (advice === null || advice.send) break;
          await setup.loop.sleep(
            Math.min(
              GATE_RECHECK_CAP_MS,
              advice.retryAfterSeconds === null ? HOLD_POLL_MS : advice.retryAfterSeconds * 1_000,
            ),
          );
        }
        return delivered(await model(MODEL_URL, REQUEST));
      };
    case 'guarded':
    case 'guardedAlt': {
      const withFlash = population === 'guardedAlt';
      if (withFlash && setup.flashTrace === null) throw new Error("bench clients: row 3b needs Flash's trace");
      const flash = withFlash ? upstreamFetch(setup, setup.flashTrace!, FLASH_MODEL, tally, flashDice, seen) : null;
      const viaService = (input: FetchInput, init?: RequestInit) => {
        const url = urlOf(input);
        if (url.startsWith(setup.serviceUrl)) return loopback(input, init);
        return flash && url === FLASH_URL ? flash(input, init) : model(input, init);
      };
      const guarded = createGuardedFetch({
        modelpulseUrl: setup.serviceUrl,
        target: TARGET,
        fetch: viaService as typeof fetch,
        now: setup.loop.now,
        sleep: setup.loop.sleep,
        random,
        ...(setup.reportToken === null ? {} : { reportToken: setup.reportToken }),
        // The same request body, sent to Flash's endpoint.
        ...(withFlash
          ? {
              alternatives: {
                [FLASH_TARGET]: (_input: FetchInput, init?: RequestInit): [FetchInput, RequestInit | undefined] => [
                  FLASH_URL,
                  init,
                ],
              },
            }
          : {}),
      });
      return async () => {
        try {
          return await delivered(await guarded(MODEL_URL, REQUEST));
        } catch (error) {
          if (error instanceof ModelPulseHoldError) {
            tally.holdErrors++;
            return {
              image: false,
              retryAfterMs: error.retryAfterSeconds === null ? null : error.retryAfterSeconds * 1_000,
            };
          }
          // A call cut at the advised deadline, or a connection that failed through every retry: no image this time.
          if (isTimeout(error) || (error instanceof TypeError && error.message === 'fetch failed'))
            return { image: false, retryAfterMs: null };
          throw error;
        }
      };
    }
  }
}

function hourOf(tally: Tally, setup: CrowdSetup, at: number) {
  return tally.hours[Math.min(23, Math.max(0, Math.floor((at - setup.dayStart) / HOUR_MS)))]!;
}

const retryable = (status: number) => status === 503 || status === 429 || status >= 500;

/** What a fetch rejects with when its deadline (AbortSignal.timeout, or the guarded fetch's) ran out. */
const isTimeout = (error: unknown) => error instanceof DOMException && error.name === 'TimeoutError';

/**
 * A model's endpoint on the virtual clock: a reply drawn from its trace, in the Gemini API's own
 * wire format, after its latency. Flash's calls count in the totals and in `tally.flash`; a call
 * to Flash while Pro is held is the alternative, not a half-open send.
 */
function upstreamFetch(setup: CrowdSetup, trace: Trace, model: string, tally: Tally, dice: () => number, seen: Seen) {
  const isFlash = model === FLASH_MODEL;
  return async (_input: FetchInput, init?: RequestInit): Promise<Response> => {
    const at = setup.loop.now();
    const conditions = conditionsAt(trace, setup.traceStart, at);
    const reply = drawReply(conditions, dice);
    const signal = init?.signal ?? undefined;
    // The call's signal ends the wait for its reply: a call cut at the advised deadline is counted as cut.
    const replyAfter = (ms: number) =>
      setup.loop.sleep(ms, signal).catch((error: unknown) => {
        if (isTimeout(error)) tally.cutAtDeadline++;
        throw error;
      });
    const hour = hourOf(tally, setup, at);
    tally.calls++;
    hour.calls++;
    if (isFlash) tally.flash.calls++;
    else if (!seen.send) tally.halfOpenSends++;
    if (reply.kind === 'hang') {
      await replyAfter(PROBE_TIMEOUT_MS);
      throw new TypeError('fetch failed');
    }
    if (!signal && !isFlash && seen.timeoutMs !== null && reply.delayMs > seen.timeoutMs) tally.pastDeadline++;
    await replyAfter(reply.delayMs);
    const wire = geminiError(reply.kind, model) ?? geminiSuccess(reply.kind, model, true);
    if (wire.status === 503) {
      tally.overloaded++;
      hour.overloaded++;
      if (isFlash) tally.flash.overloaded++;
      // The episodes are Pro's: a 503 from Flash while Pro is in one counts as in it.
      if (conditionsAt(setup.trace, setup.traceStart, at).p503 >= EPISODE_SHARE) tally.overloadedInEpisodes++;
    }
    // The guarded fetch hands every 200 to its caller, so each is one delivered image.
    if (isFlash && wire.status === 200) tally.flash.images++;
    return new Response(wire.body, {
      status: wire.status,
      headers: { 'content-type': 'application/json; charset=UTF-8', ...wire.headers },
    });
  };
}

/** Real HTTP to the service on loopback, through the loop's I/O lane, read in full before the caller sees it. */
function loopbackFetch(loop: VirtualLoop, tally: Tally, seen: Seen) {
  return (input: FetchInput, init?: RequestInit): Promise<Response> =>
    loop.io(async () => {
      const response = await fetch(input, init);
      const body = NULL_BODY.has(response.status) ? null : await response.arrayBuffer();
      const path = new URL(urlOf(input)).pathname;
      if (path.startsWith('/health/')) {
        tally.asks++;
        const advice = body === null ? null : adviceIn(body);
        // Pro's advice is what its calls go under; row 3b's asks about Flash count as asks only.
        if (advice && path === `/health/${TARGET}`) {
          seen.send = advice.send;
          seen.timeoutMs = advice.timeoutSeconds * 1_000;
          tally.timeoutAdvice[advice.timeoutSeconds] = (tally.timeoutAdvice[advice.timeoutSeconds] ?? 0) + 1;
        }
        if (advice && !advice.send) tally.heldAnswers++;
      } else if (path === '/api/reports') {
        tally.reportPosts++;
        if (response.status === 200 && body !== null)
          tally.reportsAccepted += Number(
            (JSON.parse(Buffer.from(body).toString()) as { accepted?: number }).accepted ?? 0,
          );
      }
      return new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    });
}

async function ask(loopback: ReturnType<typeof loopbackFetch>, serviceUrl: string): Promise<Advice | null> {
  const response = await loopback(`${serviceUrl}/health/${TARGET}`, { headers: { accept: 'application/json' } });
  return adviceIn(await response.arrayBuffer());
}

function adviceIn(body: ArrayBuffer): Advice | null {
  try {
    return (JSON.parse(Buffer.from(body).toString()) as { advice?: Advice }).advice ?? null;
  } catch {
    return null;
  }
}

function urlOf(input: FetchInput): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}
