// Drives Debian's chromium (headless, through playwright-core and the DevTools protocol) against
// the capacity map of a running server; tests/api/map.rs starts the server, prepares the browser's
// NSS database and certificate policy, and reads this script's verdict. Each check prints
// `ok <name>` or `FAIL <name>: why`; the last line is `RESULT <json>` (measurements); the exit
// status is 0 only when every check passed. Input (environment):
//   ROR_NODE_MODULES  node_modules holding playwright-core
//   ROR_CHROMIUM      the browser to start (the private-policy wrapper)
//   MAP_URL           the page, at an origin whose policy selects a capacity-seeing certificate
//   MAP_URL_NOCAP     the page, at an origin whose policy selects the profile-5 certificate
//   EXPECT            JSON: {departements, dep, placeCount, place: {id, name, offers: [ids]},
//                     aggregates: {code: value} | null, live: {id, nb} | null, pollS}
//   SCREENSHOT        where to write the France view (PNG)
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const require = createRequire(path.join(process.env.ROR_NODE_MODULES, 'x.js'));
const { chromium } = require('playwright-core');
const expect = JSON.parse(process.env.EXPECT);
let failures = 0;
const result = {};
const check = (name, ok, why) => {
  if (ok) console.log(`ok ${name}`);
  else { failures++; console.log(`FAIL ${name}: ${why}`); }
};
const waitState = (page, states, timeout = 30000) =>
  page.waitForFunction((s) => s.includes(document.body.dataset.state), states, { timeout });
const stdin = readline.createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => stdin.once('line', resolve));

const browser = await chromium.launch({
  executablePath: process.env.ROR_CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  env: { ...process.env },
});
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => check('no script error', false, e.message));
  const started = Date.now();
  await page.goto(expect.mapUrl || process.env.MAP_URL, { waitUntil: 'load' });
  await waitState(page, ['ready', 'error']);
  result.wallMsToReady = Date.now() - started;
  const timing = await page.evaluate(() => {
    const mark = performance.getEntriesByName('map-drawn')[0];
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource');
    const sum = (k) => res.reduce((n, r) => n + (r[k] || 0), nav ? nav[k] || 0 : 0);
    return {
      mapDrawnMs: mark ? mark.startTime : null, requestStartMs: nav ? nav.requestStart : null,
      transferBytes: sum('transferSize'), decodedBytes: sum('decodedBodySize'),
      files: res.map((r) => ({ name: new URL(r.name).pathname, transfer: r.transferSize, decoded: r.decodedBodySize })),
    };
  });
  Object.assign(result, timing);
  const state = await page.evaluate(() => document.body.dataset.state);
  check('the page reaches its ready state', state === 'ready', `state ${state}, message: ${await page.textContent('#message')}`);
  const drawn = await page.locator('path.dep').count();
  result.departementsDrawn = drawn;
  check('every département is drawn', drawn === expect.departements, `${drawn} paths, expected ${expect.departements}`);
  const overseas = await page.locator('path.dep[data-code^="97"]').count();
  check('the five overseas départements are drawn', overseas === 5, `${overseas}`);
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });

  if (expect.aggregates) {
    const shown = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('path.dep')].map((p) => [p.dataset.code, p.dataset.value])));
    const wrong = Object.entries(expect.aggregates).filter(([c, v]) => String(shown[c]) !== String(v));
    check('the drawn figures equal the aggregates', wrong.length === 0, JSON.stringify(wrong.slice(0, 5)));
  } else {
    const msg = await page.getAttribute('#message', 'data-kind');
    check('without aggregates, the page says so', msg === 'no-aggregates', `message kind ${msg}`);
  }

  // A département's places, then a click on one of them: its S2 answer.
  const t0 = Date.now();
  await page.click(`path.dep[data-code="${expect.dep}"]`, { force: true });
  await waitState(page, ['ready', 'error']);
  result.departementPlacesMs = Date.now() - t0;
  const points = await page.locator('circle.place').count();
  check(`the places of ${expect.dep} appear`, points === expect.placeCount, `${points} points, expected ${expect.placeCount}`);
  await page.click(`circle.place[data-id="${expect.place.id}"]`, { force: true });
  await page.waitForFunction((id) => { const d = document.getElementById('details'); return d.dataset.id === id && d.dataset.state !== 'loading'; }, expect.place.id);
  const details = await page.evaluate(() => ({
    title: document.querySelector('#details h2').textContent,
    offers: [...document.querySelectorAll('#details ul.offers li')].map((li) => li.dataset.id).sort(),
    figures: document.querySelectorAll('#details table.figures tr').length - 1,
  }));
  check('a click shows the right place', details.title === expect.place.name, `${details.title} vs ${expect.place.name}`);
  check('… with its offers (S2)', JSON.stringify(details.offers) === JSON.stringify([...expect.place.offers].sort()), `${details.offers} vs ${expect.place.offers}`);
  check('… and its figures', details.figures === expect.place.figures, `${details.figures} rows vs ${expect.place.figures}`);

  // The search box, by identifier.
  await page.fill('#query', expect.place.identifier);
  await page.click('#search button');
  await page.waitForSelector(`#results button[data-id="${expect.place.id}"]`, { timeout: 10000 }).then(
    () => check('the search box finds the place by identifier', true),
    (e) => check('the search box finds the place by identifier', false, e.message));

  if (expect.live) {
    // The test changes one figure of the open place; the page must show it within one period.
    console.log('CHANGE');
    await nextLine();
    const changedAt = Date.now();
    const seen = await page.waitForFunction(({ id, nb }) => {
      const d = document.getElementById('details');
      return d.dataset.id === id && [...d.querySelectorAll('table.figures td.n')].some((td) => td.textContent === String(nb));
    }, expect.live, { timeout: (expect.pollS + 5) * 1000 }).then(() => true, () => false);
    result.liveMs = Date.now() - changedAt;
    check('a changed figure shows within one polling period', seen && result.liveMs <= (expect.pollS + 2) * 1000, `after ${result.liveMs} ms`);
  }
  await context.close();

  // The profile-5 certificate: no capacity, said in words.
  const nocap = await browser.newContext();
  const p5 = await nocap.newPage();
  await p5.goto(process.env.MAP_URL_NOCAP, { waitUntil: 'load' });
  await p5.waitForFunction(() => !document.getElementById('message').hidden || document.body.dataset.state === 'error', null, { timeout: 30000 });
  const kind = await p5.getAttribute('#message', 'data-kind');
  const filled = await p5.locator('path.dep[fill]').count();
  check('a profile-5 certificate is told it sees no capacity', kind === 'no-capacity', `message kind ${kind}: ${await p5.textContent('#message')}`);
  check('… and no département is coloured', filled === 0, `${filled} coloured`);
  result.noCapacityMessage = await p5.textContent('#message');
  await nocap.close();
} catch (e) {
  check('the browser run', false, e.stack || String(e));
} finally {
  await browser.close();
  stdin.close();
}
console.log('RESULT ' + JSON.stringify(result));
process.exit(failures ? 1 : 0);
