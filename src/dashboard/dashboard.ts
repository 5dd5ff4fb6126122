/**
 * The web dashboard as a Node request handler: `createDashboard(tusker)` answers the page, its
 * JSON API and `/metrics`, and can be mounted in any `http.Server` (standalone: start-dashboard.ts).
 * Every request passes the checks of security.ts first; routes are in api.ts (reads) and
 * actions.ts (writes). Every request is answered, whatever Redis does: an error becomes a JSON
 * `{ error }` with a status (400 bad input, 404 unknown, 409 wrong state, 500 otherwise).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError, JobNotFoundError, JobStateError, TaskStateError } from '../errors';
import { checkBoolean, checkOptions, optionKeys } from '../internal/arguments';
import type { Tusker } from '../tusker';
import { cancelJob, pauseQueue, resumeQueue, retractJob, retryAllFailed, retryFailedTask, retryJob } from './actions';
import { HttpError, groupPage, job, jobPage, jobState, overview, pageNumber, task } from './api';
import { pageAsset } from './page-assets';
import { checkHost, checkSameOrigin, checkToken, setSecurityHeaders, type Refusal } from './security';
import { ThroughputRing } from './throughput';

/** Options of `createDashboard`. */
export interface DashboardOptions {
  /**
   * A secret the API, `/metrics` and the actions require in a header (`Authorization: Bearer <token>`
   * or `X-Tusker-Token`); the page reads it from its URL's fragment (`#token=…`). Without one,
   * only requests addressed to a loopback host (localhost, 127.0.0.1, [::1]) are answered.
   * 1 to 1,024 characters, no whitespace.
   */
  readonly token?: string;
  /** Refuse every action (403) and hide their buttons. @default false */
  readonly readOnly?: boolean;
  /** The path the dashboard is mounted under, e.g. `/tusker` (the page is then `/tusker/`). @default '' */
  readonly basePath?: string;
}

/** A Node request handler, as `http.createServer` takes. */
export type DashboardHandler = (req: IncomingMessage, res: ServerResponse) => void;

const DASHBOARD_OPTIONS = optionKeys<DashboardOptions>({ token: true, readOnly: true, basePath: true });
const MAX_BODY_BYTES = 16 * 1024;

export function checkTokenOption(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\S{1,1024}$/.test(value)) throw new InvalidArgumentError('options.token', 'a string of 1 to 1,024 characters without whitespace', value);
  return value;
}

function checkBasePath(value: unknown): string {
  if (value === undefined || value === '') return '';
  if (typeof value !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+$/.test(value)) {
    throw new InvalidArgumentError('options.basePath', "'' or a path like '/tusker' (no trailing slash)", value);
  }
  return value;
}

/**
 * The dashboard as a request handler, to mount in an existing `http.Server` (docs/dashboard.md).
 * It reads and acts through `tusker` (which you keep, and close yourself); it keeps a few minutes
 * of throughput samples in memory and runs nothing in the background.
 *
 * @example
 * const dashboard = createDashboard(tusker, { token: process.env.DASHBOARD_TOKEN, basePath: '/tusker' });
 * http.createServer((req, res) => (req.url?.startsWith('/tusker') ? dashboard(req, res) : app(req, res))).listen(8080);
 */
export function createDashboard(tusker: Tusker, options?: DashboardOptions): DashboardHandler {
  const o = checkOptions<DashboardOptions>('options', options, DASHBOARD_OPTIONS);
  const token = checkTokenOption(o.token);
  const readOnly = o.readOnly === undefined ? false : checkBoolean('options.readOnly', o.readOnly);
  const basePath = checkBasePath(o.basePath);
  const ring = new ThroughputRing();
  const context: RouteContext = { tusker, ring, readOnly };

  return (req, res) => {
    answer(req, res, context, basePath, token).catch((error: unknown) => {
      sendError(res, error);
    });
  };
}

interface RouteContext {
  readonly tusker: Tusker;
  readonly ring: ThroughputRing;
  readonly readOnly: boolean;
}

async function answer(req: IncomingMessage, res: ServerResponse, context: RouteContext, basePath: string, token: string | undefined): Promise<void> {
  setSecurityHeaders(res);
  const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
  if (basePath !== '' && url.pathname === basePath) {
    res.writeHead(302, { Location: `${basePath}/` }).end();
    return;
  }
  if (!url.pathname.startsWith(`${basePath}/`)) throw new HttpError(404, 'not found');
  const path = url.pathname.slice(basePath.length + 1);
  const refusal = checkHost(req, token);
  if (refusal) return refuse(res, refusal);

  if (path !== 'metrics' && !path.startsWith('api/')) {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed');
    const asset = await pageAsset(path);
    if (!asset) throw new HttpError(404, 'not found');
    res.writeHead(200, { 'Content-Type': asset.type, 'Content-Length': asset.body.length });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return;
  }
  const denied = checkSameOrigin(req) ?? checkToken(req, token);
  if (denied) return refuse(res, denied);

  if (path === 'metrics') {
    if (req.method !== 'GET') throw new HttpError(405, 'method not allowed');
    const text = await context.tusker.metrics();
    res.writeHead(200, { 'Content-Type': context.tusker.metricsContentType }).end(text);
    return;
  }
  const segments = path.slice('api/'.length).split('/').map(decodeSegment);
  if (req.method === 'GET') return sendJson(res, 200, await read(context, segments, url.searchParams));
  if (req.method === 'POST') {
    if (context.readOnly) return refuse(res, { status: 403, reason: 'this dashboard is read-only' });
    return sendJson(res, 200, await act(context, segments, await readBody(req)));
  }
  throw new HttpError(405, 'method not allowed');
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `bad path segment ${JSON.stringify(segment)}`);
  }
}

/** GET api/…: see api.ts. */
function read(context: RouteContext, s: readonly string[], query: URLSearchParams): Promise<unknown> {
  const { tusker } = context;
  const [kind, name, sub, id, extra] = s;
  if (kind === 'overview' && s.length === 1) return overview(tusker, context.ring, context.readOnly);
  if (kind === 'queues' && name !== undefined && sub === 'jobs' && extra === undefined) {
    return id === undefined ? jobPage(tusker, name, jobState(query.get('state')), pageNumber(query.get('page'))) : job(tusker, name, id);
  }
  if (kind === 'groups' && name !== undefined && sub === undefined) return groupPage(tusker, name, pageNumber(query.get('page')));
  if (kind === 'groups' && name !== undefined && sub === 'tasks' && id !== undefined && extra === undefined) return task(tusker, name, id);
  throw new HttpError(404, 'no such API route');
}

/** POST api/…: see actions.ts. */
function act(context: RouteContext, s: readonly string[], body: { reason?: string }): Promise<unknown> {
  const { tusker } = context;
  const [kind, name, sub, id, verb, extra] = s;
  if (kind === 'queues' && name !== undefined && extra === undefined) {
    if (sub === 'jobs' && id !== undefined) {
      if (verb === 'retry') return retryJob(tusker, name, id);
      if (verb === 'retract') return retractJob(tusker, name, id);
      if (verb === 'cancel') return cancelJob(tusker, name, id, body.reason);
    }
    if (id === undefined) {
      if (sub === 'retry-failed') return retryAllFailed(tusker, name);
      if (sub === 'pause') return pauseQueue(tusker, name);
      if (sub === 'resume') return resumeQueue(tusker, name);
    }
  }
  if (kind === 'groups' && name !== undefined && sub === 'tasks' && id !== undefined && verb === 'retry-failed' && extra === undefined) {
    return retryFailedTask(tusker, name, id);
  }
  throw new HttpError(404, 'no such action');
}

/** An action's optional JSON body: `{ "reason": "…" }` for cancel. */
async function readBody(req: IncomingMessage): Promise<{ reason?: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `a request body of at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'the request body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the request body must be a JSON object');
  const reason = (body as { reason?: unknown }).reason;
  if (reason !== undefined && typeof reason !== 'string') throw new HttpError(400, 'reason: expected a string');
  return reason === undefined ? {} : { reason };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
}

function refuse(res: ServerResponse, refusal: Refusal): void {
  sendJson(res, refusal.status, { error: refusal.reason });
}

function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof InvalidArgumentError) return 400;
  if (error instanceof JobNotFoundError) return 404;
  if (error instanceof JobStateError || error instanceof TaskStateError) return 409;
  return 500;
}

function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  try {
    sendJson(res, statusOf(error), { error: error instanceof Error ? error.message : String(error) });
  } catch {
    res.destroy();
  }
}
