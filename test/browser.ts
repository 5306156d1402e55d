import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (apt `chromium`), or CHROMIUM_PATH. Undefined when there is none. */
export function findChromium(): string | undefined {
  return [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => Boolean(p && existsSync(p)));
}

/**
 * Headless Chromium with nothing phoning home. Playwright gives every launch a fresh
 * temporary profile (it refuses --user-data-dir in args; launchPersistentContext would
 * allow only one cookie jar, and the tests need an operator and a viewer side by side).
 */
export async function launchChromium(executablePath: string): Promise<{ browser: Browser; close(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

/** Where browser tests leave screenshots (gitignored). */
export const ARTIFACT_DIR = path.resolve(import.meta.dirname, '../test-artifacts');
