import 'reflect-metadata';
import { expect, it } from '@jest/globals';
import type { PageResult } from '../browser/harness.js';
import { describeLocalNetworkAccess } from '../browser/local-network.js';
import { launchFirefox } from './firefox.driver.js';

/**
 * What Firefox ESR 153 does when a public page asks an API on this machine: the Firefox side of
 * `../browser/local-network.browser.spec.ts`. The page server is declared public with the pref
 * `network.lna.address_space.public.override` (Firefox's counterpart of Chromium's `--ip-address-space-overrides`); the
 * API listens on loopback. Firefox has Local Network Access on by default too (ETP standard): the request waits for
 * the user's `loopback-network` permission (`local-network` is the one for private addresses, and does not cover
 * loopback). Unlike headless Chromium, which refuses at once, Firefox holds the request while the prompt is open
 * (`network.lna.prompt.timeout`, 5 minutes). It never sends `Access-Control-Request-Private-Network`.
 */
describeLocalNetworkAccess(
  'a public page asking a loopback API (Firefox ESR, Local Network Access)',
  (pagesPort) => launchFirefox({ 'network.lna.address_space.public.override': `127.0.0.1:${pagesPort}` }),
  ({ browser, pageOrigin, api, received }) => {
    /** A context where the page's origin has `permission` in `state` (or no answer yet), and the page's fetch. */
    const fetchFromPublicPage = async (permission?: { state: 'granted' | 'denied' }) => {
      const context = await browser().createBrowserContext();
      if (permission)
        await context.setPermission(pageOrigin(), {
          permission: { name: 'loopback-network' },
          state: permission.state,
        });
      const page = await context.newPage();
      await page.goto(`${pageOrigin()}/`);
      const result = page
        .evaluate(
          (url) =>
            fetch(url, { headers: { 'X-Device': '1' } }).then(
              async (r) => ({ status: r.status, body: await r.text(), headers: {} }) as PageResult,
              (e) => ({ error: String(e) }) as PageResult,
            ),
          `${api()}/device`,
        )
        .catch((error: unknown) => ({ error: `page closed: ${String(error)}` }) as PageResult);
      return { context, result };
    };
    const within = <T>(ms: number, promise: Promise<T>) =>
      Promise.race([
        promise,
        new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), ms)),
      ]);

    it('before the user answers: held for the prompt, nothing reaches the API', async () => {
      const { context, result } = await fetchFromPublicPage();
      try {
        expect(await within(1_500, result)).toBe('still waiting');
        expect(received).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('with the permission denied: a TypeError in the page, nothing reaches the API', async () => {
      const { context, result } = await fetchFromPublicPage({ state: 'denied' });
      try {
        expect(await result).toEqual({ error: 'TypeError: NetworkError when attempting to fetch resource.' });
        expect(received).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('with the permission granted: an ordinary CORS preflight, without Access-Control-Request-Private-Network', async () => {
      const { context, result } = await fetchFromPublicPage({ state: 'granted' });
      try {
        expect(await result).toMatchObject({ status: 200, body: 'on' });
        expect(received.map((r) => `${r.method} ${r.requestMethod ?? ''}`.trim())).toEqual(['OPTIONS GET', 'GET']);
        expect(received.map((r) => r.privateNetwork)).toEqual([undefined, undefined]);
      } finally {
        await context.close();
      }
    });
  },
);
