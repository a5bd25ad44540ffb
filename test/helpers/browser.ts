/**
 * Headless Debian Chromium driven by playwright-core, for the end-to-end tests of the web page,
 * and small readers of what the page shows (terminal rows as text).
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ROOT } from './gateway-process.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.join(ROOT, 'test-output/screenshots');

/** Flags for a quiet, deterministic browser in a container (no sandbox as root, no GPU). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * The rows of the visible terminal as the DOM renderer shows them (what a person reads),
 * trailing blanks trimmed. xterm.js renders spaces as no-break spaces.
 */
export function terminalRows(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rows = document.querySelector('.term-pane:not([hidden]) .xterm-rows');
    if (!rows) return [];
    return Array.from(rows.children).map((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd());
  });
}
