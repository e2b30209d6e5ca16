import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/config/duration.js';

describe('durations in config and trace files', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
    ['5y', 5 * 365 * 86_400_000],
    [' 90s ', 90_000],
    ['30 s', 30_000],
  ])('reads %j as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['often', '', '30', '-5s', '5 minutes', '1h30m', 's', '10 sec'])('does not read %j as a duration', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it.each([
    [0, '0ms'],
    [500, '500ms'],
    [1_500, '1500ms'],
    [90_000, '90s'],
    [180_000, '3m'],
    [7_200_000, '2h'],
    [86_400_000, '1d'],
    [604_800_000, '1w'],
    [31_536_000_000, '1y'],
  ])('writes %i ms as %j, in the largest whole unit', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});
