import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { type BrowserDriver, driverContext } from '../browser/driver.js';
import type { ScriptPage } from '../browser/harness.js';

/** Firefox ESR from the system (Debian's `firefox-esr`); `FIREFOX_BIN` points elsewhere. */
const FIREFOX = process.env.FIREFOX_BIN ?? '/usr/bin/firefox-esr';

/**
 * Firefox ESR driven by puppeteer-core over WebDriver BiDi, headless, with web security on; the network is never
 * intercepted. `extraPrefsFirefox` is for the few specs that declare an address space (never to turn a check off); the
 * shared cases add no pref. puppeteer's own test profile turns off telemetry, updates and Safe Browsing, and sets
 * `browser.contentblocking.features.standard` with `cookieBehavior0`; that one applies only once a content blocking
 * category is chosen, so Total Cookie Protection stays on as in a default Firefox (the cross-site cookie case shows it).
 * None of its prefs touches CORS, preflights, Local Network Access or the HTTP cache.
 */
export function launchFirefox(extraPrefsFirefox: Record<string, unknown> = {}): Promise<Browser> {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    protocol: 'webDriverBiDi',
    extraPrefsFirefox,
  });
}

/** The shared cases' driver for Firefox (`launchFirefox` with no extra pref). */
export const firefoxDriver: BrowserDriver = {
  name: 'Firefox ESR',
  fetchError: /^TypeError: NetworkError when attempting to fetch resource\.$/,
  async launch() {
    const browser = await launchFirefox();
    return {
      async newContext(cookies = []) {
        const context = await browser.createBrowserContext();
        if (cookies.length > 0) await context.setCookie(...cookies);
        return driverContext(context, scriptPage);
      },
      close: () => browser.close(),
    };
  },
};

function scriptPage(page: Page): ScriptPage {
  return {
    // puppeteer's types would unwrap element handles in `arg`; the cases pass plain JSON-like values only.
    evaluate: <Arg, Result>(script: (arg: Arg) => Result | Promise<Result>, arg: Arg) =>
      page.evaluate(script as (arg: unknown) => Result | Promise<Result>, arg) as Promise<Result>,
  };
}
