import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { inPage, screenshot, type PageOptions } from '../helpers/browser.js';
import { card, FLASH, MINUTE, PRO, RELAY, useDashboardWorld } from './world.js';

/** Seoul is nine hours east of UTC, all year. */
const SEOUL = { locale: 'ko-KR', timezoneId: 'Asia/Seoul' } satisfies PageOptions;
const SEOUL_OFFSET_MINUTES = 540;

const world = useDashboardWorld();

const pad = (n: number) => String(n).padStart(2, '0');
/** The wall clock "HH:MM" at `iso`, `offsetMinutes` east of UTC, worked out here rather than by the page's Intl. */
const clockAt = (iso: string, offsetMinutes: number) => {
  const shifted = new Date(Date.parse(iso) + offsetMinutes * MINUTE);
  return `${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}`;
};
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Hours {
  offsetMinutes: number;
  cells: unknown[];
  quietest: { start: number; hours: number } | null;
}
interface Health {
  targets: Array<{ target: string; since: string | null }>;
}
interface Alerts {
  notifications: Array<{ target: string; headline: string; grouped: boolean; channel: string; createdAt: string }>;
}

const pressed = (page: Page, selector: string) => page.locator(selector).getAttribute('aria-pressed');

/** What a Korean page may show in Latin letters: names, ids and models, what upstreams and status pages wrote, units and codes. */
const AS_WRITTEN = [
  'Nano Banana Pro',
  'Nano Banana',
  RELAY,
  PRO,
  FLASH,
  'gemini-3-pro-image-preview',
  'gemini-2.5-flash-image',
  'gemini',
  'google-cloud',
  'modelpulse',
  'The model is overloaded. Please try again later.',
  'Elevated error rates for image generation',
  'Asia/Seoul',
  'English',
  'GMT',
  'UTC',
  'HTTP',
];

/** Words of four or more Latin letters on the page (text, titles and labels) beyond what it must show as written. */
async function englishLeft(page: Page): Promise<string[]> {
  const text = await inPage<string>(
    page,
    `document.title + ' ' + document.body.innerText + ' ' + [...document.querySelectorAll('[title], [aria-label]')]
    .map((el) => (el.getAttribute('title') ?? '') + ' ' + (el.getAttribute('aria-label') ?? '')).join(' ')`,
  );
  const rest = AS_WRITTEN.reduce((left, written) => left.split(written).join(' '), text);
  return [...new Set(rest.match(/[A-Za-z]{4,}/g) ?? [])];
}

describe('a reader in Seoul', () => {
  it('sees the overview in Korean with Seoul times by default, can switch to English (remembered over a reload) and back; an en-US browser gets English', async () => {
    const w = await world();
    await w.runTo(5);
    const { page, errors } = await w.open('/', SEOUL);

    // Korean, picked from the browser's languages with nothing saved.
    await expect.poll(() => page.locator(`${card(PRO)} .badge`).textContent()).toBe('정상');
    expect(await page.locator('main h1').textContent()).toBe('모델 상태');
    expect(await page.locator('nav a').allTextContents()).toEqual(['개요', '장애', '알림']);
    expect(await inPage<string>(page, 'document.documentElement.lang')).toBe('ko');
    expect(await page.locator(`${card(PRO)} .advice`).textContent()).toMatch(/^보내기 · 타임아웃 \d+초$/);
    expect(await pressed(page, '#prefs button[data-language="ko"]')).toBe('true');
    expect(await pressed(page, '#prefs button[data-zone="local"]')).toBe('true');
    expect(await page.locator('#prefs button[data-zone="local"]').textContent()).toBe('현지(Asia/Seoul)');

    // The "since" time is the service's clock (T0 = 12:00 UTC) moved nine hours east: about 21:0x GMT+9, not 12:0x.
    const health = await w.api<Health>('/api/health');
    const since = health.targets.find((t) => t.target === PRO)?.since;
    expect(since).toBeTruthy();
    const seoulClock = clockAt(since!, SEOUL_OFFSET_MINUTES);
    expect(seoulClock).toMatch(/^21:0\d$/);
    expect(await page.locator(`${card(PRO)} .since`).textContent()).toMatch(
      new RegExp(`^${escapeRegExp(seoulClock)} GMT\\+9부터\\(`),
    );
    await screenshot(page, 'locale-overview-ko');
    expect(await englishLeft(page)).toEqual([]);

    // English, chosen here: it stays over a reload although the browser still says ko-KR.
    await page.locator('#prefs button[data-language="en"]').click();
    await expect.poll(() => page.locator('main h1').textContent()).toBe('Model status');
    expect(await inPage<string>(page, 'document.documentElement.lang')).toBe('en');
    expect(await page.locator('nav a').allTextContents()).toEqual(['Overview', 'Incidents', 'Alerts']);
    expect(await page.locator(`${card(PRO)} .badge`).textContent()).toBe('Healthy');
    // The zone is still Seoul's: only the words changed.
    expect(await page.locator(`${card(PRO)} .since`).textContent()).toMatch(
      new RegExp(`^Since ${escapeRegExp(seoulClock)} GMT\\+9`, 'i'),
    );
    await page.reload();
    await page.waitForSelector('main[data-view="overview"]');
    await expect.poll(() => page.locator('main h1').textContent()).toBe('Model status');
    expect(await pressed(page, '#prefs button[data-language="en"]')).toBe('true');
    expect(await inPage<string>(page, 'navigator.language')).toBe('ko-KR');

    // And back to Korean.
    await page.locator('#prefs button[data-language="ko"]', { hasText: '한국어' }).click();
    await expect.poll(() => page.locator('main h1').textContent()).toBe('모델 상태');
    expect(await page.locator(`${card(PRO)} .badge`).textContent()).toBe('정상');
    expect(await inPage<string>(page, 'document.documentElement.lang')).toBe('ko');
    expect(errors).toEqual([]);

    // A browser in en-US and UTC (the defaults) with nothing saved reads English and UTC times.
    const english = await w.open('/');
    await expect.poll(() => english.page.locator(`${card(PRO)} .badge`).textContent()).toBe('Healthy');
    expect(await english.page.locator('main h1').textContent()).toBe('Model status');
    expect(await inPage<string>(english.page, 'document.documentElement.lang')).toBe('en');
    expect(await english.page.locator(`${card(PRO)} .since`).textContent()).toMatch(
      new RegExp(`^Since ${escapeRegExp(clockAt(since!, 0))} UTC`, 'i'),
    );
    expect(english.errors).toEqual([]);
  }, 120_000);

  it('folds the week in Seoul time on the detail page, switches to UTC on request (remembered over a reload), and reads the alert log in Korean', async () => {
    const w = await world();
    await w.runTo(45);

    // What the API says: the quietest window in UTC, and the same window folded in Seoul time.
    const utcHours = await w.api<Hours>(`/api/targets/${PRO}/hours`);
    const seoulHours = await w.api<Hours>(`/api/targets/${PRO}/hours?offset=${SEOUL_OFFSET_MINUTES}`);
    expect(utcHours.quietest).not.toBeNull();
    // The seeded folk pattern: quietest on Sunday 01–05 UTC (Monday 00:00 is hour 0).
    const utcStart = utcHours.quietest!.start;
    expect(utcStart).toBe(6 * 24 + 1);
    const seoulStart = (utcStart + 9) % 168;
    expect(seoulHours.offsetMinutes).toBe(SEOUL_OFFSET_MINUTES);
    expect(seoulHours.quietest?.start).toBe(seoulStart);

    const { page, errors } = await w.open(`/targets/${PRO}`, SEOUL);
    await page.waitForSelector('.quietest[data-start]');
    await page.waitForSelector('table.folk');
    expect(await inPage<string>(page, 'document.documentElement.lang')).toBe('ko');
    expect(await page.locator('.crumbs a').textContent()).toBe('개요');
    expect(Number(await page.locator('.quietest').getAttribute('data-start'))).toBe(seoulStart);
    const seoulQuiet = await page.locator('.quietest strong').textContent();
    expect(seoulQuiet).toContain('일요일 10–14시');
    expect(seoulQuiet).toContain('GMT+9');
    expect(await page.locator('table.heatmap td.heat').count()).toBe(168);
    expect(await page.locator('table.heatmap').getAttribute('aria-label')).toMatch(/GMT\+9$/);
    // The folk table's 12–18 UTC peak, as Seoul reads it.
    expect(await page.locator('table.folk').getAttribute('data-offset')).toBe(String(SEOUL_OFFSET_MINUTES));
    const peakRow = page.locator('table.folk tbody tr').nth(2);
    expect(await peakRow.locator('td').nth(0).textContent()).toBe('21–03');
    expect(await peakRow.locator('td').nth(1).textContent()).toBe('최고');
    // Our incident started some minutes past 12:10 UTC: past 21:10 in Seoul.
    const incidentStart = page.locator('table.incidents tbody tr').first().locator('td').first();
    expect(await incidentStart.textContent()).toMatch(/^21:[1-5]\d GMT\+9$/);
    await screenshot(page, 'locale-detail-ko-seoul');
    expect(await englishLeft(page)).toEqual([]);

    // UTC on request: the same page re-renders with the week folded in UTC.
    await page.locator('#prefs button[data-zone="utc"]').click();
    await expect.poll(async () => Number(await page.locator('.quietest').getAttribute('data-start'))).toBe(utcStart);
    const utcQuiet = await page.locator('.quietest strong').textContent();
    expect(utcQuiet).toContain('일요일 01–05시');
    expect(utcQuiet).toContain('UTC');
    expect(utcQuiet).not.toContain('GMT+9');
    expect(await page.locator('table.folk').getAttribute('data-offset')).toBe('0');
    expect(await page.locator('table.folk tbody tr').nth(2).locator('td').nth(0).textContent()).toBe('12–18');
    // The last block ends at midnight: 24, as the folk table writes it, not 00.
    expect(await page.locator('table.folk tbody tr').nth(3).locator('td').nth(0).textContent()).toBe('18–24');
    expect(await page.locator('table.heatmap td.heat').count()).toBe(168);
    expect(await page.locator('table.incidents tbody tr').first().locator('td').first().textContent()).toMatch(
      /^12:[1-5]\d UTC$/,
    );
    expect(await pressed(page, '#prefs button[data-zone="utc"]')).toBe('true');
    expect(await pressed(page, '#prefs button[data-zone="local"]')).toBe('false');

    // Remembered: a reload keeps UTC (and Korean).
    await page.reload();
    await page.waitForSelector('.quietest[data-start]');
    await expect.poll(() => pressed(page, '#prefs button[data-zone="utc"]')).toBe('true');
    expect(Number(await page.locator('.quietest').getAttribute('data-start'))).toBe(utcStart);
    expect(await page.locator('.quietest strong').textContent()).toContain('UTC');
    expect(await inPage<string>(page, 'document.documentElement.lang')).toBe('ko');

    // The cards on the overview show UTC times too.
    await page.locator('.crumbs a').click();
    await page.waitForSelector('main[data-view="overview"]');
    const since = (await w.api<Health>('/api/health')).targets.find((t) => t.target === FLASH)?.since;
    expect(since).toBeTruthy();
    expect(await page.locator(`${card(FLASH)} .since`).textContent()).toMatch(
      new RegExp(`^${escapeRegExp(clockAt(since!, 0))} UTC부터\\(`),
    );

    // English on the detail page, in the same browser.
    await page.locator(`${card(PRO)} h2 a`).click();
    await page.waitForSelector('.quietest[data-start]');
    await page.locator('#prefs button[data-language="en"]').click();
    await expect.poll(() => page.locator('#latency-title').textContent()).toBe('Latency of successful calls');
    expect(await page.locator('.crumbs a').textContent()).toBe('Overview');
    expect(await page.locator('.quietest strong').textContent()).toBe('quietest: Sun 01–05 UTC, 0% 503');
    expect(errors).toEqual([]);

    // The alert log in Korean: the API words the headlines in the language asked for.
    const ko = await w.api<Alerts>('/api/alerts?limit=200&lang=ko');
    const en = await w.api<Alerts>('/api/alerts?limit=200&lang=en');
    expect(ko.notifications.length).toBeGreaterThanOrEqual(1);
    expect(ko.notifications.every((n) => n.channel === 'log')).toBe(true);
    expect(ko.notifications[0]!.headline).toContain('과부하');
    expect(en.notifications[0]!.headline).not.toContain('과부하');
    expect(en.notifications[0]!.headline).toMatch(/overload/i);
    const alerts = await w.open('/alerts', SEOUL);
    await alerts.page.waitForSelector('main[data-view="alerts"]');
    expect(await alerts.page.locator('main h1').textContent()).toBe('알림 기록');
    const first = alerts.page.locator('table.alerts tbody tr').first();
    expect(await first.locator('td').nth(2).textContent()).toContain('과부하');
    // Not grouped with others: no mail subject (stored in English, as sent) trails the Korean headline.
    expect(ko.notifications[0]!.grouped).toBe(false);
    expect(await first.locator('td').nth(2).textContent()).not.toMatch(/OVERLOADED|메일:/);
    expect(await first.locator('td').nth(2).textContent()).toContain(ko.notifications[0]!.headline);
    expect(await first.locator('td').nth(0).textContent()).toMatch(/GMT\+9$/);
    await screenshot(alerts.page, 'locale-alerts-ko');
    expect(await englishLeft(alerts.page)).toEqual([]);
    expect(alerts.errors).toEqual([]);
  }, 120_000);
});

describe('a reader in a zone off the hour', () => {
  it('labels the week folded in India time (+5:30) at half past, and shows the folk hours as 17:30–23:30', async () => {
    const w = await world();
    await w.runTo(3);
    const india = await w.api<Hours>(`/api/targets/${PRO}/hours?offset=330`);
    // Each UTC hour lands in the cell of the Indian hour it starts in: 01:00 UTC is 06:30, in the cell of 06.
    expect(india.quietest?.start).toBe(6 * 24 + 6);
    const { page, errors } = await w.open(`/targets/${PRO}`, { locale: 'en-IN', timezoneId: 'Asia/Kolkata' });
    await page.waitForSelector('.quietest[data-start]');
    expect(Number(await page.locator('.quietest').getAttribute('data-start'))).toBe(6 * 24 + 6);
    // The zone's short name is Intl's: IST in en-IN.
    expect(await page.locator('.quietest strong').textContent()).toMatch(
      /^quietest: Sun 06:30–10:30 (IST|GMT\+5:30), 0% 503$/,
    );
    expect(await page.locator('table.heatmap thead th').first().textContent()).toBe('00:30');
    expect(await page.locator('table.heatmap tbody tr').nth(6).locator('td').nth(6).getAttribute('title')).toMatch(
      /^Sun 06:30 (IST|GMT\+5:30): /,
    );
    expect(await page.locator('table.folk tbody tr').nth(2).textContent()).toMatch(/^17:30–23:30peak/);
    expect(errors).toEqual([]);
  }, 60_000);
});
