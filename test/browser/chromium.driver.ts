import type { Page } from 'playwright-core';
import { launchBrowser } from '../../example/playground/chromium.js';
import { type BrowserDriver, driverContext } from './driver.js';
import type { ScriptPage } from './harness.js';

/** Chromium 153 from `@sparticuz/chromium`, driven by playwright-core, with web security on (see `launchBrowser`). */
export const chromiumDriver: BrowserDriver = {
  name: 'Chromium from npm',
  fetchError: /^TypeError: Failed to fetch$/,
  async launch() {
    const browser = await launchBrowser();
    return {
      async newContext(cookies = []) {
        const context = await browser.newContext();
        if (cookies.length > 0) await context.addCookies(cookies);
        return driverContext(context, (page: Page): ScriptPage => page);
      },
      close: () => browser.close(),
    };
  },
};
