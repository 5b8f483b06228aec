// Drives Debian's Firefox ESR for the Rust end-to-end tests, over WebDriver BiDi with
// puppeteer-core (Playwright's Firefox needs a patched build that cannot be installed here).
// The same line protocol as driver.mjs, for the commands an agent's call needs:
//
// {"cmd":"open","agent":A,"hz":F} (a Firefox whose fake microphone plays a sine at F Hz)
// {"cmd":"goto","agent":A,"url":U} {"cmd":"fill","agent":A,"selector":S,"value":V}
// {"cmd":"click","agent":A,"selector":S} {"cmd":"wait","agent":A,"selector":S,"text":T?,"timeout":MS?}
// {"cmd":"eval","agent":A,"js":EXPR} {"cmd":"until","agent":A,"js":EXPR}
// {"cmd":"screenshot","agent":A,"path":P} {"cmd":"log","agent":A} {"cmd":"close","agent":A}
// {"cmd":"version","agent":A} {"cmd":"quit"}
//
// Firefox gathers ICE candidates only on its "default address", which it finds by routing
// towards a public address: the test's network namespace routes everything to lo.

import { createInterface } from 'node:readline';
import puppeteer from 'puppeteer-core';

const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
const agents = new Map();

async function open(hz) {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    protocol: 'webDriverBiDi',
    args: ['--no-remote'],
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      'media.navigator.audio.fake_frequency': hz,
      'media.peerconnection.ice.loopback': true,
      'media.peerconnection.ice.obfuscate_host_addresses': false,
      'media.autoplay.default': 0,
      'browser.shell.checkDefaultBrowser': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
    },
  });
}

async function run(c) {
  const agent = agents.get(c.agent);
  const page = agent && agent.page;
  const timeout = c.timeout ?? 15000;
  switch (c.cmd) {
    case 'open': {
      const browser = await open(c.hz ?? 1000);
      const newPage = await browser.newPage();
      await newPage.setViewport({ width: 1280, height: 720 });
      const log = [];
      newPage.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
      newPage.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
      agents.set(c.agent, { browser, page: newPage, log });
      return true;
    }
    case 'version': return await agent.browser.version();
    case 'goto': await page.goto(c.url, { timeout }); return page.url();
    case 'fill': await page.locator(c.selector).setTimeout(timeout).fill(c.value); return true;
    case 'click': await page.locator(c.selector).setTimeout(timeout).click(); return true;
    case 'wait': {
      if (c.text !== undefined && c.text !== null) {
        await page.waitForFunction((sel, text) => {
          const el = document.querySelector(sel);
          return el !== null && el.textContent.includes(text);
        }, { timeout, polling: 100 }, c.selector, c.text);
      } else {
        await page.waitForSelector(c.selector, { visible: true, timeout });
      }
      return await page.$eval(c.selector, (el) => el.textContent ?? '');
    }
    case 'eval': return await page.evaluate(c.js);
    case 'until': await page.waitForFunction(c.js, { timeout, polling: 100 }); return true;
    case 'screenshot': await page.screenshot({ path: c.path }); return c.path;
    case 'log': return agent.log.slice(-50);
    case 'close':
      if (agent) await agent.browser.close();
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
