import 'reflect-metadata';
import { launchBrowser } from './chromium.js';
import { startPlayground } from './server.js';

/** Renders the playground after a refused partner request and a refused WebSocket into docs/playground.png, for the README. */
const playground = await startPlayground(0, 0, { logLevels: ['warn', 'error', 'fatal'] });
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 400 } });
  await page.goto(playground.playgroundUrl);
  await page.selectOption('#preset', 'PUT /partner/orders/7');
  await page.click('#send');
  await page.waitForSelector('#server .step');
  await page.click('#ws-other');
  await page.waitForSelector('#ws-server .connection');
  await page.screenshot({ path: 'docs/playground.png', fullPage: true });
  console.log('wrote docs/playground.png');
} finally {
  await browser.close();
  await playground.close();
}
