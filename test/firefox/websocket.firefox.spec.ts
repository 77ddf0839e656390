import { describeWebSocketCases } from '../browser/websocket-cases.js';
import { firefoxDriver } from './firefox.driver.js';

/** The WebSocket gateway cases (`../browser/websocket-cases.ts`) in Firefox ESR, as `npm test` runs them in Chromium. */
describeWebSocketCases(firefoxDriver);
