/**
 * The page's static files: the HTML, one vanilla script and one stylesheet kept beside this module
 * in `assets/` (scripts/build.mjs copies them to dist/dashboard/assets), and uPlot's script and
 * stylesheet read from the uplot package itself (resolved with require.resolve, never a CDN).
 * Each is read once, on first request, and kept in memory.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface Asset {
  readonly file: () => string;
  readonly type: string;
}

const own = (name: string) => () => join(__dirname, 'assets', name);

/** The files the page loads, by the path it asks for (relative to the dashboard's base path). */
const ASSETS: Readonly<Record<string, Asset>> = {
  '': { file: own('index.html'), type: 'text/html; charset=utf-8' },
  'dashboard.js': { file: own('dashboard.js'), type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: own('dashboard.css'), type: 'text/css; charset=utf-8' },
  'uplot.js': { file: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.css': { file: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

const loaded = new Map<string, Promise<Buffer>>();

/** The asset at `path`, or undefined when there is none. */
export async function pageAsset(path: string): Promise<{ body: Buffer; type: string } | undefined> {
  const asset = Object.hasOwn(ASSETS, path) ? ASSETS[path] : undefined;
  if (!asset) return undefined;
  let body = loaded.get(path);
  if (!body) {
    body = readFile(asset.file());
    loaded.set(path, body);
    body.catch(() => loaded.delete(path)); // a failed read is tried again next time
  }
  return { body: await body, type: asset.type };
}
