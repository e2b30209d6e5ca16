import { CANARY_MAX_OUTPUT_TOKENS } from '../config/schema.js';
import type { Target } from '../config/target.js';
import type { Outcome } from '../domain/outcome.js';
import type { Exchange } from '../probes/http.js';
import { verdict } from '../probes/outcome.js';
import { outcomeOf } from '../probes/probe.js';
import { conditionsAt, drawReply, type Trace } from './scenario.js';
import { geminiError, geminiSuccess, openAiReply } from './wire.js';

/**
 * The simulator's upstream on an injected clock, for replaying hours in milliseconds: each call
 * draws its reply from the trace as the HTTP simulator does, writes the same wire bytes, and goes
 * through the probes' real classification; it completes when the clock reaches its latency (or
 * the caller's deadline). The driver moves the clock and calls settle().
 */
export interface VirtualUpstream {
  probe(target: Target, signal: AbortSignal): Promise<Outcome>;
  /** When the earliest call in flight completes; null when none is. */
  nextCompletion(): number | null;
  /** Completes every call due by `now`; returns how many completed. */
  settle(now: number): number;
  /** Every call, by start time, with when it completes and how. */
  calls: Array<{ at: number; doneAt: number; targetId: string; class: Outcome['class'] }>;
}

interface Pending {
  doneAt: number;
  outcome: Outcome;
  resolve: (outcome: Outcome) => void;
}

export function virtualUpstream(options: {
  trace: Trace;
  now: () => number;
  random: () => number;
  startedAt?: number;
}): VirtualUpstream {
  const startedAt = options.startedAt ?? options.now();
  const pending: Pending[] = [];
  const calls: VirtualUpstream['calls'] = [];
  return {
    calls,
    probe(target, signal) {
      const at = options.now();
      const exchange = reply(target, drawReply(conditionsAt(options.trace, startedAt, at), options.random));
      const outcome = outcomeOf(target, exchange, at, at + exchange.latencyMs);
      calls.push({ at, doneAt: at + exchange.latencyMs, targetId: target.id, class: outcome.class });
      return new Promise<Outcome>((resolve) => {
        const abort = () => {
          const index = pending.indexOf(entry);
          if (index >= 0) pending.splice(index, 1);
          resolve({
            ...outcome,
            class: 'network',
            message: 'aborted at shutdown',
            detail: 'aborted',
            latencyMs: Math.max(0, options.now() - at),
          });
        };
        const entry: Pending = {
          doneAt: at + exchange.latencyMs,
          outcome,
          resolve: (done) => {
            signal.removeEventListener('abort', abort);
            resolve(done);
          },
        };
        pending.push(entry);
        signal.addEventListener('abort', abort, { once: true });
      });
    },
    nextCompletion: () => (pending.length === 0 ? null : Math.min(...pending.map((p) => p.doneAt))),
    settle(now) {
      const due = pending.filter((p) => p.doneAt <= now).sort((a, b) => a.doneAt - b.doneAt);
      for (const entry of due) {
        pending.splice(pending.indexOf(entry), 1);
        entry.resolve(entry.outcome);
      }
      return due.length;
    },
  };
}

/** The exchange a real call would have had: the wire reply after its latency, or our deadline passing first. */
function reply(target: Target, drawn: { kind: Parameters<typeof geminiError>[0]; delayMs: number }): Exchange {
  const timeoutMs = target.probe.timeout;
  const latencyMs = Math.round(drawn.delayMs);
  if (drawn.kind === 'hang' || latencyMs >= timeoutMs) {
    return {
      kind: 'failed',
      verdict: verdict('timeout', { message: `no complete reply within ${timeoutMs} ms` }),
      httpStatus: null,
      latencyMs: timeoutMs,
      ttfbMs: null,
    };
  }
  const wantsImage = target.probe.kind === 'image';
  const wire =
    target.provider === 'gemini'
      ? (geminiError(drawn.kind, target.model) ??
        geminiSuccess(
          drawn.kind,
          target.model,
          wantsImage,
          wantsImage ? null : (target.probe.maxOutputTokens ?? CANARY_MAX_OUTPUT_TOKENS),
        ))
      : openAiReply(drawn.kind, target.model, wantsImage);
  return {
    kind: 'reply',
    status: wire.status,
    headers: wire.headers ?? {},
    body: wire.body,
    latencyMs,
    ttfbMs: latencyMs,
  };
}
