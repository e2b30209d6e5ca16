import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { horizontalOverflow, inPage, pixelsOfColour, screenshot } from '../helpers/browser.js';
import { card, FLASH, MINUTE, PRO, RELAY, useDashboardWorld } from './world.js';

const world = useDashboardWorld();

describe('the overview', () => {
  it('shows a card per target with a worded state badge, its figures, what /health advises, and a 90-day bar where gaps read "no data"', async () => {
    const w = await world();
    await w.runTo(5);
    const { page, errors } = await w.open('/');
    for (const id of [PRO, FLASH, RELAY]) {
      await expect.poll(() => page.locator(`${card(id)} .badge`).textContent()).toBe('Healthy');
      expect(await page.locator(`${card(id)} .advice`).textContent()).toMatch(/^Send · timeout \d+ s$/);
      expect(await page.locator(`${card(id)} .bar .cell`).count()).toBe(90);
    }
    expect(await page.locator(`${card(PRO)} .official`).textContent()).toContain(
      'Status page: operational (google-cloud)',
    );
    expect(await page.locator(`${card(RELAY)} .official`).textContent()).toContain('No status page mapped');
    // The five days the service was off, and nothing else of the 90, read "no data"; the other cards have 60 empty days.
    const empty = await Promise.all(
      (await page.locator(`${card(PRO)} .bar .cell[data-kind="nodata"]`).all()).map((cell) =>
        cell.getAttribute('data-day'),
      ),
    );
    expect(empty).toEqual(['2026-10-07', '2026-10-08', '2026-10-09', '2026-10-10', '2026-10-11']);
    expect(await page.locator(`${card(FLASH)} .bar .cell[data-kind="nodata"]`).count()).toBe(59);
    expect(await page.locator(`${card(PRO)} .bar .cell[data-day="2026-10-09"]`).getAttribute('title')).toMatch(
      /no data/,
    );
    expect(await page.locator(`${card(PRO)} .uptime-figures`).textContent()).toMatch(
      /^Uptime 24 h \d+(\.\d)?% · 30 d \d+(\.\d)?% · 90 d \d+(\.\d)?%$/,
    );

    // Hover, then keyboard: the day's figures appear under the bar.
    await page.locator(`${card(PRO)} .bar .cell[data-day="2026-11-19"]`).hover();
    expect(await page.locator(`${card(PRO)} .day-detail`).textContent()).toMatch(
      /^Thu, Nov 19: \d+(\.\d)?% up · \d+(\.\d)?% 503 · p95 \d+(\.\d)? s · no incidents$/,
    );
    await page.locator(`${card(PRO)} .bar`).focus();
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    expect(await page.locator(`${card(PRO)} .day-detail`).textContent()).toMatch(/^Thu, Nov 19:/);
    await page.keyboard.press('Home');
    expect(await page.locator(`${card(PRO)} .day-detail`).textContent()).toMatch(/^Sun, Aug 23:/);
    await screenshot(page, 'overview-calm');
    expect(errors).toEqual([]);
  }, 90_000);

  // The probe cadences users run: the badge must flip live at both.
  for (const everyMs of [60_000, 5 * MINUTE]) {
    it(`flips the badge to Overloaded without a reload when the upstream turns to overload (probes every ${everyMs / 1000} s)`, async () => {
      const w = await world(everyMs);
      await w.runTo(8);
      const { page, errors } = await w.open('/');
      await expect.poll(() => page.locator(`${card(PRO)} .badge`).textContent()).toBe('Healthy');
      await inPage(page, 'window.stayed = true');
      // A day picked in the bar (which takes the focus) neither freezes the card nor is lost on updates.
      await page.locator(`${card(PRO)} .bar .cell[data-day="2026-11-18"]`).click();
      await w.runTo(45);
      await expect
        .poll(() => page.locator(`${card(PRO)} .badge`).textContent(), { timeout: 10_000 })
        .toBe('Overloaded');
      expect(await page.locator(`${card(PRO)} .day-detail`).textContent()).toMatch(/^Wed, Nov 18:/);
      expect(await inPage<string>(page, 'document.activeElement.dataset.focusKey')).toBe(`bar:${PRO}`);
      expect(await page.locator(`${card(PRO)} .advice`).textContent()).toMatch(/^Hold · retry after/);
      expect(await inPage(page, 'window.stayed')).toBe(true);
      expect(await page.locator('#freshness').textContent()).toMatch(/^Live · updated/);
      await screenshot(page, `overview-overloaded-${everyMs / 1000}s`);
      expect(errors).toEqual([]);
    }, 120_000);
  }

  it('flags "status page green while failing" on the card while the provider has not posted', async () => {
    const w = await world(60_000, '30m');
    await w.runTo(26);
    const { page } = await w.open('/');
    await expect
      .poll(() => page.locator(`${card(PRO)} .flag`).textContent())
      .toMatch(/^⚠ Status page green while failing since \d\d:\d\d UTC$/);
    expect(await page.locator(`${card(PRO)} .ack`).textContent()).toMatch(
      /^Our incident since 12:1\d UTC: provider not posted yet$/,
    );
    await w.runTo(50);
    await expect.poll(() => page.locator(`${card(PRO)} .flag`).count(), { timeout: 10_000 }).toBe(0);
    // Posted 30 min after the trouble began, which is some minutes after our onset.
    await expect
      .poll(() => page.locator(`${card(PRO)} .ack`).textContent())
      .toMatch(/^Our incident since 12:1\d UTC: provider posted (2\d|3\d) min after onset$/);
    expect(await page.locator(`${card(PRO)} .official`).textContent()).toMatch(
      /Status page: (degraded|partial outage|major outage)/,
    );
  }, 120_000);
});

describe('the target detail', () => {
  it('draws the latency and outcome charts, shades the official incident, names the quiet window and lists our incidents', async () => {
    const w = await world();
    await w.runTo(45);
    const { page, errors } = await w.open(`/targets/${PRO}`);
    await page.waitForFunction('window.modelpulse.firstChartMs !== null');
    await page.waitForSelector('table.heatmap');
    // Canvases actually drawn: the p95 line's colour and the outcome bars' colours are on them.
    expect(await pixelsOfColour(page, '#latency-chart', '--warn')).toBeGreaterThan(50);
    expect(await pixelsOfColour(page, '#outcome-chart', '--ok')).toBeGreaterThan(200);
    expect(await pixelsOfColour(page, '#outcome-chart', '--overloaded')).toBeGreaterThan(20);
    // The provider's incident: listed, and drawn as a band on both charts.
    expect(await page.locator('.bands li').first().textContent()).toMatch(/\(google-cloud\)$/);
    await expect
      .poll(async () => Number(await page.locator('#latency-chart').getAttribute('data-bands')))
      .toBeGreaterThanOrEqual(1);
    await expect
      .poll(async () => Number(await page.locator('#outcome-chart').getAttribute('data-bands')))
      .toBeGreaterThanOrEqual(1);
    // The seeded folk pattern: quietest Sunday 01–05 UTC with no 503 at all; 12–18 the busiest block.
    expect(await page.locator('.quietest strong').textContent()).toBe('quietest: Sun 01–05 UTC, 0% 503');
    expect(await page.locator('table.folk tbody tr').nth(2).textContent()).toMatch(/^12–18peak\d+(\.\d)?%busiest$/);
    expect(await page.locator('table.heatmap td.heat').count()).toBe(168);
    // Our incident, with its worst state and how late the provider said so.
    const row = page.locator('table.incidents tbody tr').first();
    expect(await row.locator('.badge').textContent()).toBe('Overloaded');
    expect(await row.textContent()).toMatch(/after onset|before we saw it/);
    // How it is probed and what that costs: the interval in force (the 1 min halved while it holds traffic), the budget, today and the week.
    expect(await page.locator('p.probing').textContent()).toMatch(
      /^Canaries every 30 s · budget \$1\.00 a day · \$0\.\d{4} spent today \(\d+ probes\) · \$0\.\d{4} over the last 7 days$/,
    );
    await screenshot(page, 'detail');

    // The p95 heatmap and another range redraw in place.
    await page.getByRole('button', { name: 'p95 latency' }).click();
    await expect.poll(() => page.locator('table.heatmap').getAttribute('aria-label')).toMatch(/^p95 latency/);
    await page.getByRole('button', { name: '7 d' }).click();
    await expect.poll(() => page.locator('#latency-chart').getAttribute('aria-label')).toMatch(/7 d$/);
    expect(await pixelsOfColour(page, '#latency-chart', '--warn')).toBeGreaterThan(50);
    // Over 90 days the five days without probes break the lines instead of being bridged.
    await page.getByRole('button', { name: '90 d' }).click();
    await expect.poll(() => page.locator('#latency-chart').getAttribute('aria-label')).toMatch(/90 d$/);
    expect(
      await inPage<number>(
        page,
        "window.Chart.getChart(document.querySelector('#latency-chart')).data.datasets[0].data.filter((p) => p.y === null).length",
      ),
    ).toBeGreaterThanOrEqual(1);
    // Leaving and coming back lets go of the charts: two while a target shows, none on the overview.
    for (let round = 0; round < 3; round++) {
      await page.locator('.crumbs a').click();
      await page.waitForSelector('main[data-view="overview"]');
      expect(await inPage<number>(page, 'Object.keys(window.Chart.instances).length')).toBe(0);
      await page.locator(`${card(PRO)} h2 a`).click();
      await page.waitForSelector('#latency-chart');
      await page.waitForFunction('Object.keys(window.Chart.instances).length === 2');
    }
    expect(errors).toEqual([]);
  }, 120_000);
});

describe('every page, for everyone', () => {
  const PAGES = ['/', `/targets/${PRO}`, `/targets/${RELAY}`, '/incidents', '/alerts'];

  it('fits a 390 px phone without sideways scrolling, in light and dark, and logs no console errors', async () => {
    const w = await world();
    await w.runTo(30);
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const path of PAGES) {
        const { page, errors } = await w.open(path, { width: 390, colorScheme });
        await page.waitForTimeout(100);
        expect(await horizontalOverflow(page), `${path} ${colorScheme}`).toBe(0);
        expect(errors, `${path} ${colorScheme}`).toEqual([]);
        await screenshot(page, `phone-${colorScheme}-${path.replace(/\W+/g, '-') || 'home'}`);
      }
    }
    const light = await w.open('/', { colorScheme: 'light' });
    const dark = await w.open('/', { colorScheme: 'dark' });
    const background = (page: Page) => inPage<string>(page, 'getComputedStyle(document.body).backgroundColor');
    expect(await background(light.page)).not.toBe(await background(dark.page));
  }, 120_000);

  it('labels demo mode on every page only when it is a demo, and lists incidents and alerts across targets', async () => {
    const w = await world();
    await w.runTo(30);
    const incidents = await w.open('/incidents');
    expect(await incidents.page.locator('#demo-banner').isHidden()).toBe(true);
    expect(await incidents.page.locator('table.incidents tbody tr').count()).toBeGreaterThanOrEqual(1);
    expect(await incidents.page.locator('table.incidents tbody tr td:first-child').allTextContents()).toContain(PRO);
    const alerts = await w.open('/alerts');
    expect(await alerts.page.locator('h1').textContent()).toBe('Alert log');
  }, 120_000);

  it('says so when a page cannot load, and keeps a page already shown (marked stale) when only its refresh fails', async () => {
    const w = await world();
    await w.runTo(5);
    const { page } = await w.open('/');
    await page.route('**/api/alerts**', (route) => route.fulfill({ status: 500, body: '{"error":"internal error"}' }));
    await page.locator('nav a', { hasText: 'Alerts' }).click();
    await expect.poll(() => page.locator('main h1').textContent()).toBe('Cannot reach modelpulse');
    expect(await page.locator('main [role="alert"]').textContent()).toMatch(
      /\/api\/alerts\?limit=200&lang=en: HTTP 500/,
    );
    await page.locator('nav a', { hasText: 'Overview' }).click();
    await page.waitForSelector('main[data-view="overview"]');
    await page.route('**/api/incidents**', (route) =>
      route.fulfill({ status: 500, body: '{"error":"internal error"}' }),
    );
    await w.runTo(10);
    await expect
      .poll(() => page.locator('#freshness').textContent(), { timeout: 10_000 })
      .toMatch(/^Update failed \(\/api\/incidents\?limit=200: HTTP 500\) · showing data from/);
    expect(await page.locator('main h1').textContent()).toBe('Model status');
    expect(await page.locator('article.card').count()).toBe(3);
    await page.unroute('**/api/incidents**');
    await w.runTo(15);
    await expect.poll(() => page.locator('#freshness').textContent(), { timeout: 10_000 }).toMatch(/^Live · updated/);
  }, 120_000);

  it('is reachable by keyboard: the skip link, the navigation, the language and time-zone switches, every card and its day bar, the range buttons', async () => {
    const w = await world();
    await w.runTo(3);
    const { page } = await w.open('/');
    const reached: string[] = [];
    for (let i = 0; i < 18; i++) {
      await page.keyboard.press('Tab');
      reached.push(
        await inPage<string>(
          page,
          `(() => {
        const el = document.activeElement;
        return el.classList.contains('bar') ? 'bar:' + el.closest('article').getAttribute('data-target') : el.tagName.toLowerCase() + ':' + el.textContent.trim().slice(0, 30);
      })()`,
        ),
      );
    }
    expect(reached[0]).toBe('a:Skip to content');
    expect(reached).toEqual(
      expect.arrayContaining([
        'a:Incidents',
        'a:Alerts',
        'button:English',
        'button:한국어',
        'button:Local (UTC)',
        'button:UTC',
        `bar:${PRO}`,
        `bar:${FLASH}`,
        `bar:${RELAY}`,
        'a:Nano Banana Pro',
      ]),
    );
    await page.keyboard.press('Shift+Tab');
    // Following a card link by keyboard opens the detail, where the range buttons take focus.
    await page.locator(`${card(PRO)} h2 a`).focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('#latency-chart');
    await page.getByRole('button', { name: '30 d' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('button', { name: '30 d' }).getAttribute('aria-pressed')).toBe('true');
    // The page was rebuilt for the new range; the focus is back on the button pressed.
    expect(await inPage<string>(page, 'document.activeElement.textContent')).toBe('30 d');
    await page.keyboard.press('Tab');
    expect(await inPage<string>(page, 'document.activeElement.textContent')).toBe('90 d');
  }, 90_000);
});

describe('a protected dashboard', () => {
  it('asks for the password, then works as usual, live updates included', async () => {
    const access = { user: 'ops', password: 'dash-pass-7f3e91', apiToken: null, healthToken: 'health-tok-99d0e2' };
    const w = await world(60_000, '5m', access);
    await w.runTo(5);
    // What makes a browser show its password prompt.
    const refused = await fetch(`${w.service.url}/`, { headers: { accept: 'text/html' } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic realm="modelpulse"/);
    const { page, errors } = await w.open('/', { httpCredentials: { username: 'ops', password: access.password } });
    await expect.poll(() => page.locator(`${card(PRO)} .badge`).textContent()).toBe('Healthy');
    await expect.poll(() => page.locator('#freshness').textContent()).toMatch(/^Live · updated/);
    await w.runTo(45);
    await expect.poll(() => page.locator(`${card(PRO)} .badge`).textContent(), { timeout: 10_000 }).toBe('Overloaded');
    expect(errors).toEqual([]);
  }, 120_000);
});
