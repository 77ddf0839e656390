import { afterAll, beforeAll, beforeEach, describe } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { ADAPTERS } from '../e2e/app.fixture.js';
import { pagesAndBrowser, type Received, startDeviceApi } from './harness.js';

/** What the Local Network Access tests of one engine work with, for the adapter they run against. */
export interface LocalNetworkSetup<B> {
  browser(): B;
  /** The page's origin: the page server under 127.0.0.1, which the browser was told is public. */
  pageOrigin(): string;
  /** The device API's URL, on loopback. */
  api(): string;
  /** What the API received during the current test. */
  received: Received[];
}

/**
 * A public page asking an API on this machine, in the browser `launch` opens against every adapter: `launch` is given
 * the page server's port to declare the page server public, the engine's own way. `tests` declares the engine's
 * tests, each engine asserting its own behaviour (`local-network.browser.spec.ts`, `../firefox/local-network.firefox.spec.ts`).
 */
export function describeLocalNetworkAccess<B extends { close(): Promise<void> }>(
  title: string,
  launch: (pagesPort: number) => Promise<B>,
  tests: (setup: LocalNetworkSetup<B>) => void,
): void {
  describe(title, () => {
    const { browser, pages } = pagesAndBrowser((pages) => launch(pages.port));

    describe.each(ADAPTERS)('against $name ($bootstrap)', (adapter) => {
      let app: INestApplication;
      let api: string;
      const received: Received[] = [];
      const pageOrigin = () => `http://127.0.0.1:${pages().port}`;

      beforeAll(async () => {
        ({ app, api } = await startDeviceApi(adapter, pageOrigin(), received));
      });
      afterAll(() => app?.close());
      beforeEach(() => {
        received.length = 0;
      });

      tests({ browser, pageOrigin, api: () => api, received });
    });
  });
}
