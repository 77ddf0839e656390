import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { Browser, BrowserContext } from 'playwright-core';
import { ADAPTERS } from '../e2e/app.fixture.js';
import { launchBrowser } from '../../example/playground/chromium.js';
import { type PageServer, pageFetch, type Received, servePages, startDeviceApi } from './harness.js';

/**
 * What Chromium 153 does when a public page asks an API on this machine. The page server is declared public with
 * `--ip-address-space-overrides`; the API listens on loopback. Chromium 142 replaced Private Network Access preflights
 * with Local Network Access, a permission the user grants: no `Access-Control-Request-Private-Network` is sent either
 * way, so `allowPrivateNetwork` has nothing to answer for current Chromium.
 */
describe('a public page asking a loopback API (Chromium 153, Local Network Access)', () => {
  let browser: Browser;
  let pages: PageServer;
  beforeAll(async () => {
    pages = await servePages();
    browser = await launchBrowser([`--ip-address-space-overrides=127.0.0.1:${pages.port}=public`]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([browser?.close(), pages?.close()]);
  });

  describe.each(ADAPTERS)('against $name', (adapter) => {
    let app: INestApplication;
    let api: string;
    const received: Received[] = [];
    const pageOrigin = () => `http://127.0.0.1:${pages.port}`;

    beforeAll(async () => {
      ({ app, api } = await startDeviceApi(adapter, pageOrigin(), received));
    });
    afterAll(() => app?.close());
    beforeEach(() => {
      received.length = 0;
    });

    const fetchFromPublicPage = async (context: BrowserContext) => {
      const page = await context.newPage();
      await page.goto(`${pageOrigin()}/`);
      return pageFetch(page, `${api}/device`, { headers: { 'X-Device': '1' } });
    };

    it('without the permission: blocked in the browser, nothing reaches the API', async () => {
      const context = await browser.newContext();
      try {
        const result = await fetchFromPublicPage(context);
        expect('error' in result && result.error).toMatch(/TypeError/);
        expect(received).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('with the permission: an ordinary CORS preflight, without Access-Control-Request-Private-Network', async () => {
      const context = await browser.newContext();
      await context.grantPermissions(['local-network-access']);
      try {
        const result = await fetchFromPublicPage(context);
        expect(result).toMatchObject({ status: 200, body: 'on' });
        expect(received.map((r) => `${r.method} ${r.requestMethod ?? ''}`.trim())).toEqual(['OPTIONS GET', 'GET']);
        expect(received.map((r) => r.privateNetwork)).toEqual([undefined, undefined]);
      } finally {
        await context.close();
      }
    });
  });
});
