import { chromiumDriver } from './chromium.driver.js';
import { describeWebSocketCases } from './websocket-cases.js';

/** The WebSocket gateway cases (`websocket-cases.ts`) in Chromium 153 from npm; `npm run test:firefox` runs them in Firefox ESR. */
describeWebSocketCases(chromiumDriver);
