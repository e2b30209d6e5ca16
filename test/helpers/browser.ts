import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of every browser test land here (ignored by git), for a human to look at. */
export const ARTIFACTS = new URL('../../test-results/screenshots/', import.meta.url);

/** Debian's headless Chromium, with nothing reaching for the network on its own. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium), as .ci/run does`,
    );
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface OpenedPage {
  page: Page;
  /** Console errors and uncaught exceptions, as they happen. */
  errors: string[];
}

export interface PageOptions {
  width?: number;
  colorScheme?: 'light' | 'dark';
  /** Basic-auth credentials the browser answers a 401 challenge with. */
  httpCredentials?: { username: string; password: string };
  /** The browser's language and time zone: en-US and UTC unless a test says otherwise, whatever the machine's. */
  locale?: string;
  timezoneId?: string;
}

export async function openPage(browser: Browser, url: string, options: PageOptions = {}): Promise<OpenedPage> {
  const page = await browser.newPage({
    viewport: { width: options.width ?? 1200, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
    httpCredentials: options.httpCredentials,
    locale: options.locale ?? 'en-US',
    timezoneId: options.timezoneId ?? 'UTC',
  });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(url);
  return { page, errors };
}

// Code that runs in the page is given as text: the project compiles without the DOM's types.

/** How many pixels wider than the viewport the page is (0: no sideways scrolling). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
}

/** Evaluates an expression in the page, as text. */
export async function inPage<T>(page: Page, expression: string): Promise<T> {
  return (await page.evaluate(expression)) as T;
}

/**
 * How many pixels inside a chart's plot area (not its legend) are drawn in (close to) the colour of a
 * CSS custom property of the page.
 */
export async function pixelsOfColour(page: Page, canvasSelector: string, cssVar: string): Promise<number> {
  return Number(
    await page.evaluate(`(() => {
      const canvas = document.querySelector(${JSON.stringify(canvasSelector)});
      if (!canvas) return -1;
      const hex = getComputedStyle(document.documentElement).getPropertyValue(${JSON.stringify(cssVar)}).trim();
      const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      const area = window.Chart.getChart(canvas).chartArea;
      const scale = canvas.width / canvas.getBoundingClientRect().width;
      const [x, y] = [Math.ceil(area.left * scale) + 1, Math.ceil(area.top * scale) + 1];
      const { data } = canvas.getContext('2d').getImageData(x, y, Math.floor((area.right - area.left) * scale) - 2, Math.floor((area.bottom - area.top) * scale) - 2);
      let count = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 200 && Math.abs(data[i] - want[0]) + Math.abs(data[i + 1] - want[1]) + Math.abs(data[i + 2] - want[2]) < 40) count++;
      }
      return count;
    })()`),
  );
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true });
}
