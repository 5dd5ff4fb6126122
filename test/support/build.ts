import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Vitest global setup: build dist/ once before any test file runs. The packaging test and the
 * classic examples (which `require('tusker/compat/...')` like a user would) load the build.
 */
export default function setup(): void {
  const root = join(__dirname, '..', '..');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}
