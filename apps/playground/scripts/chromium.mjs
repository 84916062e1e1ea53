import { existsSync } from 'node:fs';

/** Where Debian, Ubuntu and Chrome put the browser; CHROMIUM_PATH overrides. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/**
 * The Chromium binary the end-to-end test and the benchmark drive, or an error saying how to
 * install one: a missing browser fails the test, it never skips it (CI installs it in .ci/run).
 * @returns {string}
 */
export function chromiumPath() {
  const wanted = process.env.CHROMIUM_PATH;
  if (wanted) {
    if (!existsSync(wanted)) throw new Error(`CHROMIUM_PATH is ${wanted}, which does not exist; point it at a Chromium or Chrome binary`);
    return wanted;
  }
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found)
    throw new Error(
      `the playground's end-to-end test needs headless Chromium and found none (looked for ${CANDIDATES.join(', ')}). ` +
        'Install it with `sudo apt-get update && sudo apt-get install -y chromium` (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium or Chrome binary.',
    );
  return found;
}

/** Flags for a headless run in a container (no user-namespace sandbox, a small /dev/shm). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-dev-shm-usage'];
