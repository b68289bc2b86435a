// The web page in a real browser: Debian's Chromium driven by playwright-core (which cannot download
// a browser here), against the real stack. Screenshots of each state go to e2e/.artifacts/browser/
// (git-ignored). Its own stack, on the project's certificates.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { waitUntilHealthy } from './support/docker.ts';
import { repoRoot, startStack, type Stack } from './support/stack.ts';

const artifacts = join(repoRoot, 'e2e/.artifacts/browser');
const unavailable = 'The dice service is unavailable, try again shortly.';

describe('the web page in Chromium', { timeout: 10 * 60_000 }, () => {
  let stack: Stack;
  let browser: Browser;
  const problems: string[] = [];

  /** A new page that records what the console and the CSP complain about. */
  async function openPage(javaScriptEnabled = true): Promise<Page> {
    const context = await browser.newContext({ javaScriptEnabled });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    return page;
  }

  const dieValues = (page: Page): Promise<number[]> => page.locator('[data-testid="dice"] li').evaluateAll((items) => items.map((item) => Number((item as HTMLElement).dataset['value'])));

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    stack = await startStack();
    browser = await chromium.launch({
      executablePath: process.env['CHROMIUM'] ?? '/usr/bin/chromium',
      // As root in a container there is no sandbox to use; no network beyond the stack is reachable.
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  });

  after(async () => {
    await browser?.close();
    await stack?.down();
  });

  it('shows a rolled die, and "Roll again" rolls again', async () => {
    const page = await openPage();
    await page.goto(stack.webappUrl);
    const value = Number(await page.getByTestId('value').textContent());
    assert.ok(value >= 1 && value <= 6, `rolled ${value}`);
    assert.match((await page.getByRole('img').getAttribute('aria-label')) ?? '', new RegExp(`^Die showing ${value}$`));
    await page.screenshot({ path: join(artifacts, '1-die.png') });
    await Promise.all([page.waitForURL(`${stack.webappUrl}/`), page.getByRole('link', { name: 'Roll again' }).click()]);
    const again = Number(await page.getByTestId('value').textContent());
    assert.ok(again >= 1 && again <= 6, `rolled again: ${again}`);
    assert.deepEqual(problems, [], 'no console or CSP errors');
  });

  it('"Roll N dice" shows N dice arriving one by one over the event stream', async () => {
    const page = await openPage();
    await page.goto(stack.webappUrl);
    await page.getByRole('spinbutton').fill('6');
    // A first roll, not timed, for the picture of dice arriving: it is also the first stream of this
    // web app and this page, whose first die waits on code run for the first time on both sides.
    await page.getByRole('button', { name: 'Roll N dice' }).click();
    await page.locator('[data-testid="dice"] li').nth(2).waitFor();
    await page.screenshot({ path: join(artifacts, '2-dice-arriving.png') });
    await page.locator('[data-testid="dice"] li').nth(5).waitFor();

    // When each roll event of the timed roll reaches the browser, stamped by its network stack
    // (DevTools protocol), not by the page's main thread: a stall of the page would move one stamp
    // and shorten the next gap without the stream being any less one die at a time.
    const devtools = await page.context().newCDPSession(page);
    await devtools.send('Network.enable');
    const received: number[] = [];
    devtools.on('Network.eventSourceMessageReceived', (message) => {
      if (message.eventName === 'roll') received.push(message.timestamp * 1000);
    });
    // And when each die appears, by the page's clock.
    await page.evaluate(() => {
      const arrivals: number[] = [];
      (window as unknown as { arrivals: number[] }).arrivals = arrivals;
      new MutationObserver((changes) => {
        for (const change of changes) for (let i = 0; i < change.addedNodes.length; i++) arrivals.push(performance.now());
      }).observe(document.querySelector('[data-testid="dice"]') as Node, { childList: true });
    });
    await page.getByRole('button', { name: 'Roll N dice' }).click();
    // No screenshot while the arrivals are timed: capturing a frame holds the page's main thread,
    // and with it the observer that stamps the next die (it once made a 475 ms gap then a 130 ms one).
    await page.waitForFunction(() => (window as unknown as { arrivals: number[] }).arrivals.length === 6);
    const values = await dieValues(page);
    assert.equal(values.length, 6);
    assert.ok(values.every((value) => value >= 1 && value <= 6), JSON.stringify(values));
    const gaps = received.slice(1).map((at, i) => at - (received[i] as number));
    // The server rolls one die every 300 ms: each arrives on its own, not all at the end.
    assert.ok(gaps.length === 5 && gaps.every((gap) => gap > 150), `gaps between roll events: ${gaps.map(Math.round).join(', ')} ms`);
    // And the page draws each as it comes: its last die more than 4 × 150 ms after its first.
    const arrivals = await page.evaluate(() => (window as unknown as { arrivals: number[] }).arrivals);
    const drawnOver = (arrivals[5] ?? 0) - (arrivals[0] ?? 0);
    assert.ok(arrivals.length === 6 && drawnOver > 600, `the page drew ${arrivals.length} dice over ${Math.round(drawnOver)} ms`);
    assert.equal(page.url(), `${stack.webappUrl}/`, 'the script kept the page; no form submission');
    await page.screenshot({ path: join(artifacts, '3-dice.png') });
    assert.deepEqual(problems, [], 'no console or CSP errors');
  });

  it('works without JavaScript: the form brings back a page with all N dice', async () => {
    const page = await openPage(false);
    await page.goto(stack.webappUrl);
    await page.getByRole('spinbutton').fill('4');
    await Promise.all([page.waitForURL(/\?count=4$/), page.getByRole('button', { name: 'Roll N dice' }).click()]);
    const values = await dieValues(page);
    assert.equal(values.length, 4);
    assert.equal(Number(await page.getByTestId('total').textContent()), values.reduce((sum, value) => sum + value, 0));
    await page.screenshot({ path: join(artifacts, '4-no-javascript.png') });
  });

  it('with the server stopped, the page and "Roll N dice" show the unavailable sentence', async () => {
    const page = await openPage();
    await page.goto(stack.webappUrl);
    await stack.compose('stop', 'server');
    try {
      await page.getByRole('button', { name: 'Roll N dice' }).click();
      await page.getByTestId('dice-notice').waitFor({ state: 'visible' });
      assert.equal(await page.getByTestId('dice-notice').textContent(), unavailable);
      assert.deepEqual(await dieValues(page), []);
      await page.screenshot({ path: join(artifacts, '5-stream-unavailable.png') });
      const response = await page.reload();
      assert.equal(response?.status(), 503);
      assert.equal(await page.getByRole('alert').first().textContent(), unavailable);
      await page.screenshot({ path: join(artifacts, '6-page-unavailable.png') });
    } finally {
      await stack.compose('start', 'server');
      await waitUntilHealthy('the server to be healthy again', stack.container('server').getId());
    }
  });
});
