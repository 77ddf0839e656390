import { chromiumDriver } from './chromium.driver.js';
import { describeCorsCases } from './cases.js';

/** The shared real-browser cases (`cases.ts`) in Chromium 153 from npm; `npm run test:firefox` runs them in Firefox ESR. */
describeCorsCases(chromiumDriver);
