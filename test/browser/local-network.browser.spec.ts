import 'reflect-metadata';
import { expect, it } from '@jest/globals';
import type { BrowserContext } from 'playwright-core';
import { launchBrowser } from '../../example/playground/chromium.js';
import { pageFetch } from './harness.js';
import { describeLocalNetworkAccess } from './local-network.js';

/**
 * What Chromium 153 does when a public page asks an API on this machine. The page server is declared public with
 * `--ip-address-space-overrides`; the API listens on loopback. Chromium 142 replaced Private Network Access preflights
 * with Local Network Access, a permission the user grants: no `Access-Control-Request-Private-Network` is sent either
 * way, so `allowPrivateNetwork` has nothing to answer for current Chromium.
 */
describeLocalNetworkAccess(
  'a public page asking a loopback API (Chromium 153, Local Network Access)',
  (pagesPort) => launchBrowser([`--ip-address-space-overrides=127.0.0.1:${pagesPort}=public`]),
  ({ browser, pageOrigin, api, received }) => {
    const fetchFromPublicPage = async (context: BrowserContext) => {
      const page = await context.newPage();
      await page.goto(`${pageOrigin()}/`);
      return pageFetch(page, `${api()}/device`, { headers: { 'X-Device': '1' } });
    };

    it('without the permission: blocked in the browser, nothing reaches the API', async () => {
      const context = await browser().newContext();
      try {
        const result = await fetchFromPublicPage(context);
        expect('error' in result && result.error).toMatch(/TypeError/);
        expect(received).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('with the permission: an ordinary CORS preflight, without Access-Control-Request-Private-Network', async () => {
      const context = await browser().newContext();
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
  },
);
