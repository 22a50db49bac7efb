// Every kind of page on a phone: at 360 and 320 px wide, the page must not
// scroll sideways, no word or number may be broken across lines, the
// axe-core engine must find no serious or critical violation, and the
// strict content security policy must refuse nothing (no inline style, no
// script). A screenshot of each page at 360 px is kept.
//
// Driven by Playwright with the system Chromium against a real gate.
// Usage: node pages.mjs SPEC.json ARTIFACT_DIR, with TOOLS_DIR naming the
// folder whose node_modules hold playwright-core and axe-core. SPEC lists
// sites (a gate, its language, its accounts) and their pages:
//   { "sites": [ { "lang": "ru", "base": "http://localhost:PORT",
//       "accounts": { "parent": ["login", "password"] },
//       "pages": [ { "kind": "week", "account": "parent", "path": "/s/…" },
//                  { "kind": "login", "account": null, "path": "/login" } ] } ] }
// Prints one line per page and width, and `ok` when everything held.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(`${process.env.TOOLS_DIR}/package.json`);
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const [specFile, out] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(specFile, 'utf8'));
const WIDTHS = [360, 320];

// Runs in the page: the words the layout broke across lines. A word is a
// run of non-space characters of one text node; a line may end after a
// hyphen or a dash (как-|нибудь), as in print. URLs and words longer than
// 30 characters may wrap anywhere. Text that is not laid out (hidden,
// visually hidden, closed <details>) is skipped.
function brokenWords() {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('script,style,title')) continue;
    const box = el.getBoundingClientRect();
    if (box.width <= 2 || box.height <= 2 || !el.checkVisibility()) continue;
    const text = node.data;
    for (const m of text.matchAll(/\S+/g)) {
      const word = m[0];
      if (word.length > 30 || /^[a-z]+:\/\/|^www\./i.test(word.replace(/^[(«"]+/, ''))) continue;
      // The pieces a line may end after: split after each hyphen or dash.
      let start = m.index;
      for (const piece of word.split(/(?<=[-‐–—])/)) {
        range.setStart(node, start);
        range.setEnd(node, start + piece.length);
        start += piece.length;
        const lines = new Set();
        for (const r of range.getClientRects()) {
          if (r.width > 0 && r.height > 0) lines.add(Math.round(r.top + r.height / 2));
        }
        // Rects on one line differ in top by a pixel or two (borders, sub, sup).
        const tops = [...lines].sort((a, b) => a - b);
        if (tops.length > 1 && tops[tops.length - 1] - tops[0] > 6) broken.push(word);
      }
    }
  }
  return broken;
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const failures = [];
let checked = 0;
try {
  for (const site of spec.sites) {
    const byAccount = new Map();
    for (const p of site.pages) {
      const k = p.account || '';
      if (!byAccount.has(k)) byAccount.set(k, []);
      byAccount.get(k).push(p);
    }
    for (const [account, pages] of byAccount) {
      const context = await browser.newContext({
        viewport: { width: 360, height: 640 }, locale: site.lang === 'en' ? 'en-GB' : 'ru-RU',
      });
      const page = await context.newPage();
      const refused = [];
      page.on('console', (msg) => {
        if (/Content Security Policy/i.test(msg.text())) refused.push(msg.text());
      });
      page.on('request', (r) => { if (r.resourceType() === 'script') refused.push(`script ${r.url()}`); });
      if (account) {
        const [login, password] = site.accounts[account];
        await page.goto(`${site.base}/login`);
        await page.fill('#login', login);
        await page.fill('#password', password);
        await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
        if (new URL(page.url()).pathname !== '/') {
          failures.push(`${site.lang} ${account}: login did not land on the home page: ${page.url()}`);
          await context.close();
          continue;
        }
      }
      for (const p of pages) {
        const name = `${site.lang}-${p.kind}`;
        for (const width of WIDTHS) {
          await page.setViewportSize({ width, height: 640 });
          refused.length = 0;
          const res = await page.goto(`${site.base}${p.path}`);
          const status = res ? res.status() : 0;
          checked += 1;
          if (status !== 200) {
            failures.push(`${name} ${p.path}: HTTP ${status}`);
            continue;
          }
          if (p.lands) {
            // A page that leads on by itself (the running week's address
            // leads to the start page): it must arrive there.
            try {
              await page.waitForURL((u) => u.pathname === p.lands, { timeout: 10000 });
              await page.waitForLoadState('load');
            } catch (e) {
              failures.push(`${name} ${p.path} did not lead to ${p.lands}: now at ${page.url()}`);
              continue;
            }
          }
          const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
          const broken = await page.evaluate(brokenWords);
          console.log(`${name} ${width}px: scrollWidth ${scroll}, broken words ${broken.length}`);
          if (scroll > width) failures.push(`${name} at ${width} px scrolls sideways: ${scroll} px (${p.path})`);
          if (broken.length) failures.push(`${name} at ${width} px breaks ${broken.length} words: ${[...new Set(broken)].slice(0, 12).join(' | ')} (${p.path})`);
          if (refused.length) failures.push(`${name}: the content security policy refused: ${refused.join('; ')}`);
          if (width === 360) {
            await page.screenshot({ path: `${out}/${name}-360.png`, fullPage: true });
            await page.evaluate(axeSource);
            const result = await page.evaluate(() => axe.run(document, {
              resultTypes: ['violations'],
            }));
            const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
            for (const v of result.violations) {
              console.log(`  axe ${v.impact} ${v.id}: ${v.nodes.length} node(s)`);
            }
            for (const v of serious) {
              failures.push(`${name}: axe ${v.impact} ${v.id} (${v.help}) on ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
            }
          }
        }
      }
      await context.close();
    }
  }
} catch (e) {
  failures.push(String(e && e.stack || e));
}
await browser.close();
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log(`ok: ${checked} page views`);
