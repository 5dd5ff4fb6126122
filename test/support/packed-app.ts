import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The package as a user gets it: `npm pack` of this checkout (dist/ as the global setup built
 * it), unpacked into `node_modules/tusker` of a fresh app outside the repository, so nothing
 * resolves through the repository's own files. Installing from the registry is not possible
 * offline, so the dependencies the app needs are linked from this checkout's node_modules: every
 * `dependencies` entry of package.json (what `npm install tusker` would bring), plus @types/node
 * for TypeScript and async, which the Thoonk README's worker uses — the same versions
 * `npm install` would pick.
 */
export interface PackedApp {
  /** The app's folder (with package.json and node_modules/). */
  readonly dir: string;
  /** The files in the tarball, relative to the package root. */
  readonly files: readonly string[];
  /** The installed package's folder. */
  readonly packageDir: string;
  remove(): void;
}

const root = join(__dirname, '..', '..');

export function packIntoApp(): PackedApp {
  const dir = mkdtempSync(join(tmpdir(), 'tusker-app-'));
  // --ignore-scripts: prepack would rebuild dist/ while other test files load it
  const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [info] = JSON.parse(packed) as { filename: string; files: { path: string }[] }[];
  if (!info) throw new Error(`npm pack printed no package: ${packed}`);
  const packageDir = join(dir, 'node_modules', 'tusker');
  mkdirSync(packageDir, { recursive: true });
  execFileSync('tar', ['-xzf', join(dir, info.filename), '-C', packageDir, '--strip-components=1']);
  const own = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies;
  for (const dependency of [...Object.keys(own), '@types/node', 'async', '@types/async']) {
    const target = join(dir, 'node_modules', dependency);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(realpathSync(join(root, 'node_modules', dependency)), target, 'dir');
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  return {
    dir,
    files: info.files.map((f) => f.path),
    packageDir,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Run the TypeScript compiler of this checkout in `cwd`. Throws with the compiler's output on errors. */
export function tsc(cwd: string, args: readonly string[]): void {
  try {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), ...args], { cwd, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}
