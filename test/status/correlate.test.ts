import { describe, expect, it } from 'vitest';
import type { OfficialView } from '../../src/domain/official.js';
import {
  acknowledgement,
  allGreen,
  grade,
  NO_DISCREPANCY,
  pagesSay,
  stepDiscrepancy,
  summarize,
  type DiscrepancyEvent,
  type DiscrepancyState,
  type SeenIncident,
} from '../../src/status/correlate.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-20T12:00:00Z');

/** Drives the discrepancy rule through a scripted history, one heartbeat per `stepMs`, and collects its events. */
function replay(
  script: (minute: number) => { holding: boolean | null; green: boolean },
  minutes: number,
  afterMs: number,
  stepMs = 1_000,
): Array<DiscrepancyEvent & { minute: number }> {
  let state: DiscrepancyState = NO_DISCREPANCY;
  let since = T0;
  let wasHolding = false;
  const events: Array<DiscrepancyEvent & { minute: number }> = [];
  for (let at = T0; at <= T0 + minutes * MINUTE; at += stepMs) {
    const minute = (at - T0) / MINUTE;
    const { holding, green } = script(Math.floor(minute));
    if (holding && !wasHolding) since = at;
    if (holding !== null) wasHolding = holding;
    const result = stepDiscrepancy(state, { at, holding, since, green }, afterMs);
    state = result.state;
    if (result.event) events.push({ ...result.event, minute });
  }
  return events;
}

describe('status page green while failing', () => {
  // The default threshold, its edges, and a long one; heartbeat every second as the service runs it.
  for (const afterMinutes of [0, 1, 10, 60]) {
    it(`is raised ${afterMinutes} min after a target starts holding under a green page, once, and cleared when we recover`, () => {
      const events = replay(
        (m) => ({ holding: m >= 5 && m < 5 + afterMinutes + 30, green: true }),
        afterMinutes + 60,
        afterMinutes * MINUTE,
      );
      expect(events.map((e) => [e.kind, e.minute])).toEqual([
        ['raised', 5 + afterMinutes],
        ['cleared', 5 + afterMinutes + 30],
      ]);
      expect(events[1]).toMatchObject({ kind: 'cleared', by: 'recovered' });
    });
  }

  it('is never raised while the page already admits trouble', () => {
    expect(replay((m) => ({ holding: m >= 5, green: false }), 120, 10 * MINUTE)).toEqual([]);
  });

  it('clears as acknowledged when the provider posts, and is not raised again while the page stays red', () => {
    const events = replay((m) => ({ holding: m >= 0, green: m < 25 }), 90, 10 * MINUTE);
    expect(events.map((e) => [e.kind, e.minute, e.kind === 'cleared' ? e.by : null])).toEqual([
      ['raised', 10, null],
      ['cleared', 25, 'acknowledged'],
    ]);
  });

  // The page's poll interval at its edges and its default, against the default threshold.
  for (const pollMinutes of [1, 5, 9]) {
    it(`is raised at most once while a page flips between admitting and not every ${pollMinutes} min poll`, () => {
      const events = replay((m) => ({ holding: true, green: Math.floor(m / pollMinutes) % 2 === 0 }), 180, 10 * MINUTE);
      expect(events.filter((e) => e.kind === 'raised').length).toBeLessThanOrEqual(1);
    });
  }

  it('is raised again when the provider resolves its incident while we still fail, after another full threshold of green', () => {
    // Green 0–20 (raised at 10), posted 20–40 (cleared), resolved at 40 while we keep failing: raised again at 50.
    const events = replay((m) => ({ holding: true, green: m < 20 || m >= 40 }), 90, 10 * MINUTE);
    expect(events.map((e) => [e.kind, Math.round(e.minute)])).toEqual([
      ['raised', 10],
      ['cleared', 20],
      ['raised', 50],
    ]);
  });

  it('is not raised by a hold shorter than the threshold, and a new hold counts from its own start', () => {
    const events = replay((m) => ({ holding: (m >= 0 && m < 8) || (m >= 20 && m < 40), green: true }), 60, 10 * MINUTE);
    expect(events.map((e) => [e.kind, e.minute])).toEqual([
      ['raised', 30],
      ['cleared', 40],
    ]);
  });

  it('holds its state while our data is stale: neither raised nor cleared by not knowing', () => {
    const events = replay((m) => ({ holding: m < 5 ? true : m < 30 ? null : true, green: true }), 40, 10 * MINUTE);
    // The hold began at minute 0; stale minutes change nothing, and it is raised once fresh data says holding again.
    expect(events.map((e) => [e.kind, e.minute])).toEqual([['raised', 30]]);
  });

  it('counts the hold from when it began even when the engine reports a later state change (overloaded → down)', () => {
    let state: DiscrepancyState = NO_DISCREPANCY;
    state = stepDiscrepancy(state, { at: T0, holding: true, since: T0, green: true }, 10 * MINUTE).state;
    const later = stepDiscrepancy(
      state,
      { at: T0 + 10 * MINUTE, holding: true, since: T0 + 6 * MINUTE, green: true },
      10 * MINUTE,
    );
    expect(later.event).toEqual({ kind: 'raised', at: T0 + 10 * MINUTE, holdingSince: T0 });
  });
});

const incident = (over: Partial<SeenIncident>): SeenIncident => ({
  id: 'i1',
  sourceId: 'google-cloud',
  title: 'Vertex Gemini API elevated errors',
  stage: 'investigating',
  impact: 'partial_outage',
  startedAt: T0,
  endedAt: null,
  postedAt: T0 + 30 * MINUTE,
  firstSeenAt: T0 + 32 * MINUTE,
  url: 'https://status.cloud.google.com/incidents/i1',
  affected: ['Vertex Gemini API'],
  ...over,
});

describe('acknowledgement delay', () => {
  const ours = { startedAt: T0 + 5 * MINUTE, endedAt: T0 + 95 * MINUTE };

  it("runs from our onset to the provider's post, not to its back-dated begin", () => {
    const ack = acknowledgement(ours, [incident({})], T0 + 100 * MINUTE);
    expect(ack).toEqual({
      kind: 'acknowledged',
      acknowledgedAt: T0 + 30 * MINUTE,
      delayMinutes: 25,
      incidentUrl: 'https://status.cloud.google.com/incidents/i1',
      sourceId: 'google-cloud',
    });
  });

  it('uses when we first saw it when the feed gives no post time', () => {
    const ack = acknowledgement(ours, [incident({ postedAt: null, firstSeenAt: T0 + 50 * MINUTE })], T0 + 100 * MINUTE);
    expect(ack).toMatchObject({ kind: 'acknowledged', delayMinutes: 45 });
  });

  it('counts an incident posted after the fact, with the delay up to its post', () => {
    const late = incident({
      startedAt: T0,
      endedAt: T0 + 90 * MINUTE,
      postedAt: T0 + 150 * MINUTE,
      firstSeenAt: T0 + 151 * MINUTE,
      stage: 'resolved',
    });
    expect(acknowledgement(ours, [late], T0 + 200 * MINUTE)).toMatchObject({ kind: 'acknowledged', delayMinutes: 145 });
  });

  it('is negative when the provider posted before we saw anything', () => {
    const early = incident({ startedAt: T0 - 20 * MINUTE, postedAt: T0 - 10 * MINUTE, firstSeenAt: T0 - 10 * MINUTE });
    expect(acknowledgement(ours, [early], T0 + 100 * MINUTE)).toMatchObject({
      kind: 'acknowledged',
      delayMinutes: -15,
    });
  });

  it('is not given by an old incident resolved before our onset, nor by one that began after we recovered', () => {
    const old = incident({
      id: 'old',
      startedAt: T0 - 300 * MINUTE,
      endedAt: T0 + 4 * MINUTE,
      postedAt: T0 - 290 * MINUTE,
    });
    const after = incident({ id: 'after', startedAt: T0 + 96 * MINUTE, postedAt: T0 + 97 * MINUTE });
    expect(acknowledgement(ours, [old, after], T0 + 100 * MINUTE)).toEqual({ kind: 'pending' });
  });

  it('picks the earliest post among overlapping incidents', () => {
    const a = incident({ id: 'a', postedAt: T0 + 60 * MINUTE, firstSeenAt: T0 + 61 * MINUTE, url: 'a' });
    const b = incident({ id: 'b', postedAt: T0 + 20 * MINUTE, firstSeenAt: T0 + 21 * MINUTE, url: 'b' });
    expect(acknowledgement(ours, [a, b], T0 + 100 * MINUTE)).toMatchObject({ incidentUrl: 'b', delayMinutes: 15 });
  });

  it('is pending for 4 h, then counts as never acknowledged (240 min)', () => {
    const open = { startedAt: T0, endedAt: null };
    expect(acknowledgement(open, [], T0 + 239 * MINUTE)).toEqual({ kind: 'pending' });
    expect(acknowledgement(open, [], T0 + 240 * MINUTE)).toEqual({ kind: 'never', delayMinutes: 240 });
    // An ongoing episode is acknowledged by an incident that began after our onset.
    expect(
      acknowledgement(
        open,
        [incident({ startedAt: T0 + 200 * MINUTE, postedAt: T0 + 250 * MINUTE, firstSeenAt: T0 + 250 * MINUTE })],
        T0 + 260 * MINUTE,
      ),
    ).toMatchObject({ kind: 'acknowledged', delayMinutes: 250 });
  });
});

describe('acknowledgement grade', () => {
  it.each([
    [[], null, null],
    [[0], 'A', 0],
    [[14.9], 'A', 14.9],
    [[15], 'B', 15],
    [[29], 'B', 29],
    [[30], 'C', 30],
    [[119], 'C', 119],
    [[120], 'D', 120],
    [[239], 'D', 239],
    [[240], 'F', 240],
    [[-30, 5, 240], 'A', 5],
    [[10, 20, 240, 240], 'D', 130],
  ] as const)('delays %j grade %s (median %s min)', (delays, letter, median) => {
    expect(grade(delays)).toEqual({ grade: letter, medianMinutes: median });
  });
});

const view = (over: Partial<OfficialView>): OfficialView => ({
  sourceId: 's',
  status: 'operational',
  stale: false,
  fetchedAt: T0,
  error: null,
  open: [],
  ...over,
});

describe('official summary for a target', () => {
  it('is null without a mapped source', () => {
    expect(summarize([], { troubled: true }, null)).toBeNull();
  });

  it('shows the worst source and its newest open incident, and disagrees when we see trouble under a green page', () => {
    const green = summarize([view({ sourceId: 'a' }), view({ sourceId: 'b' })], { troubled: true }, T0);
    expect(green).toMatchObject({ status: 'operational', agrees: false, incident: null, greenWhileFailingSince: T0 });
    const red = summarize(
      [view({ sourceId: 'a' }), view({ sourceId: 'b', status: 'partial_outage', open: [incident({})] })],
      { troubled: true },
      null,
    );
    expect(red).toMatchObject({
      status: 'partial_outage',
      sourceId: 'b',
      agrees: true,
      incident: { title: 'Vertex Gemini API elevated errors', startedAt: T0 },
    });
  });

  it('cannot agree or disagree when the page is unknown or our data is stale', () => {
    expect(summarize([view({ status: 'unknown', stale: true })], { troubled: true }, null)).toMatchObject({
      status: 'unknown',
      agrees: null,
    });
    expect(summarize([view({})], { troubled: null }, null)).toMatchObject({ agrees: null });
  });

  it('prefers a known status over an unknown one of the same weight', () => {
    const summary = summarize(
      [view({ sourceId: 'gone', status: 'unknown', stale: true }), view({ sourceId: 'fresh' })],
      { troubled: false },
      null,
    );
    expect(summary).toMatchObject({ status: 'operational', sourceId: 'fresh', agrees: true });
  });

  it('is green only when every mapped source is known, operational and has nothing open', () => {
    expect(allGreen([view({}), view({ stale: true })])).toBe(true);
    expect(allGreen([view({}), view({ status: 'unknown' })])).toBe(false);
    expect(allGreen([view({ open: [incident({})] })])).toBe(false);
    expect(allGreen([])).toBe(false);
  });
});

describe('a status page gone unknown', () => {
  const unknown = view({ sourceId: 'gone', status: 'unknown', stale: true });
  const red = view({ sourceId: 'red', status: 'partial_outage' });

  it('neither raises nor clears the flag: only the provider posting or our recovery does', () => {
    const raised: DiscrepancyState = { holdingSince: T0, raisedAt: T0 + 10 * MINUTE, admittedAt: null };
    const kept = stepDiscrepancy(
      raised,
      { at: T0 + 30 * MINUTE, holding: true, since: T0, green: pagesSay([unknown]) },
      10 * MINUTE,
    );
    expect(kept).toEqual({ state: raised, event: null });
    const fresh = stepDiscrepancy(
      NO_DISCREPANCY,
      { at: T0 + 30 * MINUTE, holding: true, since: T0, green: pagesSay([unknown]) },
      10 * MINUTE,
    );
    expect(fresh.event).toBeNull();
    const recovered = stepDiscrepancy(
      raised,
      { at: T0 + 30 * MINUTE, holding: false, since: T0, green: pagesSay([unknown]) },
      10 * MINUTE,
    );
    expect(recovered.event).toMatchObject({ kind: 'cleared', by: 'recovered' });
  });

  it('does not hide another page that admits trouble', () => {
    expect(pagesSay([unknown, red])).toBe(false);
    expect(pagesSay([unknown, view({})])).toBeNull();
    expect(pagesSay([view({}), view({ sourceId: 'b' })])).toBe(true);
  });
});
