import { describe, expect, it } from 'vitest';
import { parseOverrides, withOverrides } from '../../src/replay/overrides.js';
import { traceTarget } from '../../src/replay/replay.js';

const target = traceTarget('pro', 60_000, 180_000);

describe('--set overrides, validated by the config schemas', () => {
  it('changes only the knobs named, in the units the engine uses', () => {
    const set = parseOverrides([
      'health.holdEvidence=16',
      'health.slowMin=45s',
      'alerts.recoveredFor=10m',
      'alerts.sendOnResolved=false',
      'alerts.flapping.high=0.5',
      'alerts.groupWait=1m',
    ]);
    const { target: tuned, groupWaitMs } = withOverrides(target, 30_000, set);
    expect(tuned.health).toEqual({ ...target.health, holdEvidence: 16, slowMin: 45_000 });
    expect(tuned.alerts).toEqual({
      ...target.alerts,
      recoveredForMs: 600_000,
      sendOnResolved: false,
      flap: { ...target.alerts.flap, high: 0.5 },
    });
    expect(groupWaitMs).toBe(60_000);
    expect(set.written).toEqual([
      'health.holdEvidence=16',
      'health.slowMin=45s',
      'alerts.recoveredFor=10m',
      'alerts.sendOnResolved=false',
      'alerts.flapping.high=0.5',
      'alerts.groupWait=1m',
    ]);
  });

  it("validates against the target's own knobs, not only the defaults", () => {
    const strict = { ...target, health: { ...target.health, holdShare: 0.3, degradedErrorShare: 0.2 } };
    expect(() => withOverrides(strict, 30_000, parseOverrides(['health.degradedErrorShare=0.35']))).toThrow(
      /--set health\.degradedErrorShare=0\.35: degradedErrorShare must be below holdShare/,
    );
  });

  it('leaves the target as it is without overrides', () => {
    expect(withOverrides(target, 30_000, parseOverrides([]))).toEqual({ target, groupWaitMs: 30_000 });
  });
});
