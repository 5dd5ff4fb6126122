// Build: compile src/ to CommonJS in dist/, copy the Lua scripts and the dashboard's page files beside it, and write the ESM entry
// (dist/index.mjs) that re-exports the CommonJS build, so `import` and `require` share one copy of
// every class (instanceof works whichever way a user loads Tusker).
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
cpSync(join(root, 'src', 'lua'), join(dist, 'lua'), { recursive: true });
cpSync(join(root, 'src', 'dashboard', 'assets'), join(dist, 'dashboard', 'assets'), { recursive: true });
// the `tusker` bin (npm sets the mode on install; this makes ./dist/cli/index.js runnable in a checkout too)
chmodSync(join(dist, 'cli', 'index.js'), 0o755);
const names = Object.keys(createRequire(import.meta.url)(join(dist, 'index.js'))).filter((n) => n !== '__esModule');
writeFileSync(
  join(dist, 'index.mjs'),
  `import tusker from './index.js';\nexport const { ${names.join(', ')} } = tusker;\nexport default tusker;\n`,
);
