import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../../example/playground/chromium.js';
import type { BrowserDriver, DriverContext, DriverPage } from './driver.js';
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
        return driverContext(context);
      },
      close: () => browser.close(),
    };
  },
};

function driverContext(context: BrowserContext): DriverContext {
  return {
    async newPage(url) {
      const page = await context.newPage();
      await page.goto(url);
      return driverPage(page);
    },
    close: () => context.close(),
  };
}

function driverPage(page: Page): DriverPage {
  const scriptable: ScriptPage = page;
  return {
    evaluate: (script, arg) => scriptable.evaluate(script, arg),
    async navigateBy(script) {
      const [response] = await Promise.all([page.waitForNavigation(), page.evaluate(script)]);
      return response?.status();
    },
  };
}
