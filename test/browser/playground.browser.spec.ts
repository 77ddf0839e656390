import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { type RunningPlayground, startPlayground } from '../../example/playground/server.js';
import { launchBrowser } from '../../example/playground/chromium.js';

describe('the CORS playground (npm start)', () => {
  let browser: Browser;
  let playground: RunningPlayground;
  let page: Page;

  beforeAll(async () => {
    [browser, playground] = await Promise.all([launchBrowser(), startPlayground(0, 0)]);
    page = await browser.newPage();
    await page.goto(playground.playgroundUrl);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await playground?.close();
  });

  const sendPreset = async (preset: string) => {
    await page.selectOption('#preset', preset);
    await page.click('#send');
    await page.waitForFunction(() => document.querySelector('#server .step') !== null);
    const text = async (selector: string) => (await page.textContent(selector)) ?? '';
    const result = { browser: await text('#browser'), server: await text('#server') };
    await page.evaluate(() => (document.getElementById('server')!.innerHTML = ''));
    return result;
  };

  it("shows every route's policy, from the module's own audit", async () => {
    await page.waitForFunction(() => !document.getElementById('audit-table')!.textContent!.startsWith('loading'));
    const table = (await page.textContent('#audit-table')) ?? '';
    expect(table.split('\n')[0]).toMatch(/^method +path +handler +origin/);
    expect(table).toMatch(/PUT +\/partner\/orders\/:id +\w+Controller\.\w+/);
  });

  it('shows a request the policy allows as readable, and the headers the server sent', async () => {
    const { browser, server } = await sendPreset('GET /users');
    expect(browser).toContain('Response readable');
    expect(browser).toContain('Status 200');
    expect(server).toContain('Allowed: CORS headers sent');
    expect(server).toContain(`access-control-allow-origin: ${playground.playgroundUrl}`);
  });

  it('shows a refused preflight: blocked in the browser, and the reason the server gave', async () => {
    const { browser, server } = await sendPreset('PUT /partner/orders/7');
    expect(browser).toContain('Blocked by the browser');
    expect(server).toContain('Preflight: OPTIONS /partner/orders/7 for PUT');
    expect(server).toContain('CORS preflight rejected: origin not allowed');
  });

  it('names a method and a header the policy does not allow', async () => {
    expect((await sendPreset('DELETE /users/7')).server).toContain('CORS preflight rejected: method not allowed');
    expect((await sendPreset('GET /users custom')).server).toContain('CORS preflight rejected: header not allowed');
  });

  it('shows a preflighted JSON POST: the preflight, then the request', async () => {
    const { browser, server } = await sendPreset('POST /users json');
    expect(browser).toContain('Status 201');
    expect(server).toContain('Preflight accepted');
    expect(server).toContain('POST /users → 201');
  });
});
