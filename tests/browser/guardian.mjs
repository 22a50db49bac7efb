// A guardian on a 360×640 phone: logs in, opens a child's diary, follows a
// week link, opens the weekly PDF. Driven by Playwright with the system
// Chromium. Usage: node guardian.mjs BASE_URL LOGIN PASSWORD ARTIFACT_DIR,
// with TOOLS_DIR naming the folder whose node_modules hold playwright-core.
import { createRequire } from 'node:module';

const require = createRequire(`${process.env.TOOLS_DIR}/package.json`);
const { chromium } = require('playwright-core');

const [base, login, password, out] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const fail = async (msg) => { console.error(msg); await browser.close(); process.exit(1); };
try {
  const context = await browser.newContext({ viewport: { width: 360, height: 640 }, locale: 'ru-RU' });
  const page = await context.newPage();
  const scripts = [];
  page.on('request', (r) => { if (r.resourceType() === 'script') scripts.push(r.url()); });
  await page.goto(`${base}/`);
  if (!page.url().endsWith('/login')) await fail(`not sent to the login page: ${page.url()}`);
  await page.fill('#login', login);
  await page.fill('#password', password);
  await page.screenshot({ path: `${out}/1-login.png` });
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  if (new URL(page.url()).pathname !== '/') await fail(`login did not land on the home page: ${page.url()}: ${await page.locator('main').innerText()} cookies=${JSON.stringify(await context.cookies())}`);
  const children = await page.locator('main .child h3 a[href^="/s/"]').count();
  if (children < 2) await fail(`expected two children on the home page, saw ${children}`);
  await page.screenshot({ path: `${out}/2-home.png` });
  await Promise.all([page.waitForNavigation(), page.locator('main .child h3 a[href^="/s/"]').first().click()]);
  await page.screenshot({ path: `${out}/3-diary.png`, fullPage: false });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > 360) await fail(`the diary scrolls sideways: ${width}px`);
  await Promise.all([page.waitForNavigation(), page.locator('a[rel=prev]').first().click()]);
  if (!/\/w\/\d{4}-W\d{2}\.html$/.test(page.url())) await fail(`the week link went to ${page.url()}`);
  await page.screenshot({ path: `${out}/4-week.png` });
  // The weekly printout, if this release has PDFs: fetched as the browser would, with its session.
  await page.goBack();
  const pdf = page.locator('a[href$=".pdf"]').first();
  if (await pdf.count() > 0) {
    const href = await pdf.getAttribute('href');
    const res = await page.request.get(new URL(href, page.url()).toString());
    const body = await res.body();
    if (res.status() !== 200 || res.headers()['content-type'] !== 'application/pdf' || body.subarray(0, 5).toString() !== '%PDF-') {
      await fail(`the printout did not arrive as a PDF: ${res.status()} ${res.headers()['content-type']}`);
    }
    console.log(`pdf ${href} ${body.length} bytes`);
  } else {
    console.log('no pdf link on the diary page');
  }
  if (scripts.length > 0) await fail(`pages loaded scripts: ${scripts.join(', ')}`);
  console.log('ok');
} catch (e) {
  await fail(String(e && e.stack || e));
}
await browser.close();
