import { describeCorsCases } from '../browser/cases.js';
import { firefoxDriver } from './firefox.driver.js';

/** The shared real-browser cases (`../browser/cases.ts`) in Firefox ESR, as `npm test` runs them in Chromium. */
describeCorsCases(firefoxDriver);
