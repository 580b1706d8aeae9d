// Times the capacity map in headless Debian chromium against a running server (bench/README:
// the 120k figures of BENCHMARKS.md). The server is started by hand on loopback with
// --insecure-http (no client certificate in the browser: the map's own cost is what is timed).
// Usage: ROR_NODE_MODULES=/var/cache/ror-capacity/browser/node-…/node_modules \
//        node bench/map_timing.mjs http://127.0.0.1:PORT RUNS DEP
// Prints one JSON line per run: the France map drawn (the page's `map-drawn` mark, from the
// navigation's start), then a département's places drawn after a click (ms), and the bytes.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.ROR_NODE_MODULES, 'x.js'));
const { chromium } = require('playwright-core');
const [base, runs = '3', dep = '44'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  for (let i = 0; i < Number(runs); i++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    await page.goto(`${base}/map`, { waitUntil: 'load' });
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: 60000 });
    const france = await page.evaluate(() => {
      const mark = performance.getEntriesByName('map-drawn')[0];
      const res = performance.getEntriesByType('resource');
      return { mapDrawnMs: mark ? Math.round(mark.startTime) : null, state: document.body.dataset.state,
        bytes: res.reduce((n, r) => n + (r.transferSize || 0), 0) };
    });
    const t0 = Date.now();
    await page.click(`path.dep[data-code="${dep}"]`, { force: true });
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: 60000 });
    const points = await page.locator('circle.place').count();
    console.log(JSON.stringify({ run: i + 1, ...france, departementPlacesMs: Date.now() - t0, points }));
    await context.close();
  }
} finally {
  await browser.close();
}
