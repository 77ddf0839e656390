import type { ScriptPage } from './harness.js';

/**
 * What the shared cases (`cases.ts`) need of a browser, and all they know of it: implemented once with playwright-core
 * for Chromium (`chromium.driver.ts`) and once with puppeteer-core over WebDriver BiDi for Firefox
 * (`../firefox/firefox.driver.ts`). Neither driver intercepts or stubs the network, and neither turns web security off.
 */
export interface BrowserDriver {
  /** Shown in the suite's title. */
  name: string;
  /** `String(error)` of a `fetch` the browser refused: the page learns nothing more, and the texts differ by engine. */
  fetchError: RegExp;
  launch(): Promise<DriverBrowser>;
}

export interface DriverCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
}

export interface DriverBrowser {
  /** A fresh profile-like context (its own cookies and caches), holding `cookies`. */
  newContext(cookies?: DriverCookie[]): Promise<DriverContext>;
  close(): Promise<void>;
}

export interface DriverContext {
  /** A new page in this context, loaded from `url`. */
  newPage(url: string): Promise<DriverPage>;
  close(): Promise<void>;
}

export interface DriverPage extends ScriptPage {
  /** Runs `script` in the page and waits for the navigation it starts: the HTTP status of the new document. */
  navigateBy(script: () => void): Promise<number | undefined>;
}

/** The calls the drivers make on a page, which playwright-core's and puppeteer-core's pages both answer alike. */
export interface LibraryPage {
  goto(url: string): Promise<unknown>;
  waitForNavigation(): Promise<{ status(): number } | null>;
}

/** The calls the drivers make on a browser context, alike in both libraries. */
export interface LibraryContext<Page extends LibraryPage> {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * A `DriverContext` over either library's context. Only running a script differs between the libraries' pages (their
 * `evaluate` types differ), so the driver passes `scriptPage` to give a page the `ScriptPage` shape.
 */
export function driverContext<Page extends LibraryPage>(
  context: LibraryContext<Page>,
  scriptPage: (page: Page) => ScriptPage,
): DriverContext {
  return {
    async newPage(url) {
      const page = await context.newPage();
      await page.goto(url);
      const scriptable = scriptPage(page);
      return {
        evaluate: (script, arg) => scriptable.evaluate(script, arg),
        async navigateBy(script) {
          const [response] = await Promise.all([page.waitForNavigation(), scriptable.evaluate(script, undefined)]);
          return response?.status();
        },
      };
    },
    close: () => context.close(),
  };
}
