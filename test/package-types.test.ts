import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packIntoApp, tsc, type PackedApp } from './support/packed-app';

/**
 * The declarations as a user's compiler sees them: fixtures importing `tusker` and every
 * `tusker/compat/...` entry compile against the packed package under the three module
 * resolutions users configure. Fixtures are written against src/ (so the repository's own type
 * check keeps them honest); their src imports are rewritten to the package's entry points here.
 */

const fixtureRoots = [join(__dirname, 'types', 'fixtures'), join(__dirname, 'types', 'compat')];

function fixtureFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** `../../../src/compat/thoonk-jobs` → `tusker/compat/thoonk-jobs`; any other src path → `tusker`. */
function toPackageImports(source: string): string {
  return source.replace(/(from\s+|import\s+|require\(\s*|import\(\s*)(['"])((?:\.\.?\/)+(?:[\w-]+\/)*src(?:\/[\w./-]*)?)\2/g, (_m, lead: string, quote: string, path: string) => {
    const compat = /\/src\/compat\/([\w-]+?)(?:\.[jt]s)?$/.exec(path);
    return `${lead}${quote}${compat ? `tusker/compat/${compat[1]}` : 'tusker'}${quote}`;
  });
}

// Internals a user's code must not reach: with stripInternal they are not in the declarations.
const internals = `
import { Tusker, type ClaimedJob, type JobProcessor, type TaskProcessor } from 'tusker';
declare const job: ClaimedJob;
declare const processor: JobProcessor;
declare const tasks: TaskProcessor;
// @ts-expect-error hand-back is the processor's
void job.handBack();
// @ts-expect-error failing an attempt is the processor's
void job.fail('x');
// @ts-expect-error
job.abort(new Error('x'));
// @ts-expect-error the reaper schedule is internal
processor.reapBy(0, 0);
// @ts-expect-error
tasks.reapBy(0, 0);
// @ts-expect-error the timer seam is for Tusker's own tests
void new Tusker({}, undefined as never);
export {};
`;

const base = {
  strict: true,
  noEmit: true,
  // the point: the package's own declarations are checked as a user's compiler checks them
  skipLibCheck: false,
  esModuleInterop: true,
  target: 'ES2022',
  lib: ['ES2023', 'ESNext.Disposable'],
  types: ['node'],
};
const configs = {
  node10: { ...base, module: 'commonjs', moduleResolution: 'node10' },
  nodenext: { ...base, module: 'nodenext', moduleResolution: 'nodenext' },
  bundler: { ...base, module: 'esnext', moduleResolution: 'bundler' },
};

describe('the published declarations', () => {
  let app: PackedApp;
  const compiled: string[] = [];

  beforeAll(() => {
    app = packIntoApp();
    for (const fixtureRoot of fixtureRoots) {
      for (const file of fixtureFiles(fixtureRoot)) {
        const target = join(app.dir, 'src', relative(__dirname, file));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, toPackageImports(readFileSync(file, 'utf8')));
        compiled.push(relative(join(app.dir, 'src'), target));
      }
    }
    writeFileSync(join(app.dir, 'src', 'internals.ts'), internals);
    for (const [name, compilerOptions] of Object.entries(configs)) {
      writeFileSync(join(app.dir, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions, include: ['src'] }, null, 2));
    }
  }, 60_000);
  afterAll(() => app?.remove());

  it('has a fixture for tusker and every tusker/compat entry, with imports pointing at the package', () => {
    const manifest = JSON.parse(readFileSync(join(app.packageDir, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const entries = Object.keys(manifest.exports)
      .filter((e) => e !== './package.json')
      .map((e) => (e === '.' ? 'tusker' : `tusker/${e.slice(2)}`));
    const sources = compiled.map((f) => readFileSync(join(app.dir, 'src', f), 'utf8')).join('\n');
    for (const entry of entries) expect(sources).toContain(`'${entry}'`);
    expect(sources).not.toMatch(/\/src\//);
  });

  it.each(Object.keys(configs))('compile under moduleResolution %s', (name) => {
    tsc(app.dir, ['-p', `tsconfig.${name}.json`]);
  }, 60_000);

  it("explain in users' editors why a job's attempt can pass its attempts, and no longer call the queue work in progress", () => {
    const doc = (file: string, declaration: RegExp) => {
      const text = readFileSync(join(app.packageDir, file), 'utf8');
      return new RegExp(`/\\*\\*((?:(?!\\*/)[^])*)\\*/\\s*${declaration.source}`).exec(text)?.[1];
    };
    expect(doc('dist/queue/options.d.ts', /readonly attempt: number;/)).toMatch(/exceed `attempts`[^]*maxStalls/);
    expect(doc('dist/queue/claimed-job.d.ts', /readonly attempt: number;/)).toMatch(/maxStalls/);
    const queueDoc = doc('dist/tusker.d.ts', /queue<T/);
    expect(queueDoc).toContain('job queue');
    expect(queueDoc).not.toMatch(/work in progress/i);
  });

  it('hold no @internal declaration', () => {
    const declarations = app.files.filter((f) => f.endsWith('.d.ts'));
    expect(declarations).toContain('dist/index.d.ts');
    const tagged = declarations.filter((f) => readFileSync(join(app.packageDir, f), 'utf8').includes('@internal'));
    expect(tagged).toEqual([]);
  });
});

describe('toPackageImports', () => {
  it('rewrites src imports to the entry points and leaves others alone', () => {
    expect(
      toPackageImports(
        [
          `import { Tusker } from '../../../src/index';`,
          `import Worker from "../../src/compat/redis-locking-worker";`,
          `import type { JobLostError } from '../../../src/errors';`,
          `const t = require('../../../src/compat/tusker');`,
          `import { helper } from './helper';`,
        ].join('\n'),
      ),
    ).toBe(
      [
        `import { Tusker } from 'tusker';`,
        `import Worker from "tusker/compat/redis-locking-worker";`,
        `import type { JobLostError } from 'tusker';`,
        `const t = require('tusker/compat/tusker');`,
        `import { helper } from './helper';`,
      ].join('\n'),
    );
  });
});
