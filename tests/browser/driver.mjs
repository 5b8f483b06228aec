// Drives Debian's Chromium for the Rust end-to-end tests: one JSON command per line on stdin,
// one JSON answer per line on stdout. Each agent is its own Chromium process, so each can have
// its own fake microphone (a WAV file playing a test tone).
//
// Commands: {"cmd":"open","agent":A,"wav":PATH} {"cmd":"goto","agent":A,"url":U}
// {"cmd":"fill","agent":A,"selector":S,"value":V} {"cmd":"click","agent":A,"selector":S}
// {"cmd":"wait","agent":A,"selector":S,"text":T?,"timeout":MS?} {"cmd":"text","agent":A,"selector":S}
// {"cmd":"eval","agent":A,"js":EXPR} {"cmd":"screenshot","agent":A,"path":P} {"cmd":"close","agent":A}
// {"cmd":"download","agent":A,"selector":S} (clicks S, returns {name, text} of the download)
// {"cmd":"drag","agent":A,"from":S,"to":S} {"cmd":"upload","agent":A,"selector":S,"path":P}
// {"cmd":"select","agent":A,"selector":S,"value":V} {"cmd":"press","agent":A,"key":K}
// {"cmd":"reload","agent":A} {"cmd":"offline","agent":A,"on":true|false} (the browser's network
//   emulation, as when a laptop loses its network) {"cmd":"tab","agent":A,"as":B} (a second tab
//   of A's browser, driven as B; closing B closes only the tab)
// {"cmd":"timing","agent":A,"url":U} (opens U, waits for the network to go quiet; returns ms
//   from navigation start to the HTML, DOMContentLoaded and the last response, API calls included)
// {"cmd":"quit"}

import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const agents = new Map();

function args(wav) {
  return [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${wav}`,
    '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
    '--autoplay-policy=no-user-gesture-required',
  ];
}

async function run(c) {
  const agent = agents.get(c.agent);
  const page = agent && agent.page;
  const timeout = c.timeout ?? 15000;
  switch (c.cmd) {
    case 'open': {
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: args(c.wav), headless: true });
      // `locale` (e.g. ru-RU) is the browser's own language: Accept-Language and the date fields.
      const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, acceptDownloads: true, locale: c.locale });
      const newPage = await context.newPage();
      const log = [];
      newPage.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
      newPage.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
      agents.set(c.agent, { browser, context, page: newPage, log });
      return true;
    }
    case 'goto': await page.goto(c.url, { timeout }); return page.url();
    case 'reload': await page.reload({ timeout }); return page.url();
    case 'offline': await agent.context.setOffline(Boolean(c.on)); return true;
    case 'tab': {
      const tab = await agent.context.newPage();
      const log = [];
      tab.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
      tab.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
      agents.set(c.as, { browser: agent.browser, context: agent.context, page: tab, log, tab: true });
      return true;
    }
    case 'timing': {
      await page.goto(c.url, { timeout, waitUntil: 'networkidle' });
      return await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const fetches = performance.getEntriesByType('resource').filter((e) => e.initiatorType === 'fetch' || e.initiatorType === 'xmlhttprequest');
        const last = Math.max(nav.domContentLoadedEventEnd, ...performance.getEntriesByType('resource').map((e) => e.responseEnd));
        return { url: location.pathname, html: nav.responseEnd, dom: nav.domContentLoadedEventEnd, ready: last, fetches: fetches.length };
      });
    }
    case 'fill': await page.fill(c.selector, c.value, { timeout }); return true;
    case 'click': await page.click(c.selector, { timeout }); return true;
    case 'wait': {
      const locator = page.locator(c.selector).first();
      if (c.text !== undefined && c.text !== null) {
        await page.waitForFunction(([sel, text]) => {
          const el = document.querySelector(sel);
          return el !== null && el.textContent.includes(text);
        }, [c.selector, c.text], { timeout });
      } else {
        await locator.waitFor({ state: c.state || 'visible', timeout });
      }
      return (await locator.textContent({ timeout })) ?? '';
    }
    case 'download': {
      const [download] = await Promise.all([page.waitForEvent('download', { timeout }), page.click(c.selector, { timeout })]);
      const path = await download.path();
      return { name: download.suggestedFilename(), text: await readFile(path, 'utf8') };
    }
    case 'drag': await page.dragAndDrop(c.from, c.to, { timeout }); return true;
    case 'upload': await page.setInputFiles(c.selector, c.path, { timeout }); return true;
    case 'select': return await page.selectOption(c.selector, c.value, { timeout });
    case 'press': await page.keyboard.press(c.key); return true;
    case 'text': return (await page.locator(c.selector).first().textContent({ timeout })) ?? '';
    case 'eval': return await page.evaluate(c.js);
    // Waits, in the page, until the expression `js` is truthy (polled every 100 ms).
    case 'until': await page.waitForFunction(c.js, null, { timeout, polling: 100 }); return true;
    case 'screenshot': await page.screenshot({ path: c.path }); return c.path;
    case 'log': return agent.log.slice(-50);
    case 'clearlog': agent.log.length = 0; return true;
    // Waits until the page's requests have stopped for half a second (or 10 s have passed:
    // a page that polls never quite stops).
    case 'settle':
      await page.waitForLoadState('networkidle', { timeout: c.timeout || 10000 }).catch(() => {});
      return true;
    case 'close':
      if (agent && agent.tab) await agent.page.close();
      else if (agent) await agent.browser.close();
      agents.delete(c.agent);
      return true;
    case 'quit':
      for (const a of agents.values()) await a.browser.close().catch(() => {});
      process.exit(0);
      break;
    default: throw new Error(`unknown command ${c.cmd}`);
  }
  return null;
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    answer = { ok: true, result: await run(JSON.parse(line)) };
  } catch (error) {
    answer = { ok: false, error: String(error && error.message || error) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
for (const a of agents.values()) await a.browser.close().catch(() => {});
