/**
 * The dashboard's security checks, applied before any route runs (docs/dashboard.md):
 * - every response carries a strict Content-Security-Policy (no inline script or style, nothing
 *   from another origin), `nosniff` and `no-referrer`;
 * - with a token, the API, `/metrics` and every action need it in a header (`Authorization:
 *   Bearer …` or `X-Tusker-Token`). Never a cookie: a browser attaches cookies to a forged
 *   cross-site request, it never attaches a header a page script did not set;
 * - without a token, only requests addressed to a loopback host name are answered, so a page on
 *   another site that rebinds its DNS name to 127.0.0.1 reads nothing;
 * - the API refuses cross-site callers: `Sec-Fetch-Site`, when the browser sends it, must be
 *   `same-origin` or `none`, and `Origin`, when present, must be the dashboard's own origin.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Set the headers every response carries, whatever it is. */
export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cache-Control', 'no-store');
}

/** Why a request is refused: the status and a one-line reason, or undefined when it may go on. */
export interface Refusal {
  readonly status: 401 | 403;
  readonly reason: string;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The token a request carries in a header, if any. */
function presentedToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const header = req.headers['x-tusker-token'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/** Whether the request carries `token` (compared in constant time). */
export function hasToken(req: IncomingMessage, token: string): boolean {
  const given = presentedToken(req);
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

/** The host name of a Host header (`[::1]:4680` → `::1`, `localhost:80` → `localhost`). */
function hostName(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1] as string;
  return host.replace(/:\d+$/, '');
}

/** Whether `host` (a host name or an address) names this machine's loopback interface. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(name) || name === '::1' || name === '::ffff:127.0.0.1';
}

/** The `host[:port]` of an Origin header (`null` and anything unparsable: undefined, so refused). */
function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Refuse a request addressed to a host name that is not loopback while no token protects the dashboard. */
export function checkHost(req: IncomingMessage, token: string | undefined): Refusal | undefined {
  if (token !== undefined) return undefined;
  const host = req.headers.host;
  if (host !== undefined && isLoopbackHost(hostName(host))) return undefined;
  return { status: 403, reason: 'without a token the dashboard answers only requests addressed to a loopback host (localhost, 127.0.0.1, [::1])' };
}

/** Refuse a cross-site caller (see the module comment). */
export function checkSameOrigin(req: IncomingMessage): Refusal | undefined {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') {
    return { status: 403, reason: `cross-site request refused (Sec-Fetch-Site: ${site})` };
  }
  // the host only, not the scheme: behind a proxy that ends TLS the browser says https and this
  // server sees http; a page of another host (the cross-site case) still differs in its host
  const origin = req.headers.origin;
  if (typeof origin === 'string' && hostOf(origin) !== req.headers.host?.toLowerCase()) {
    return { status: 403, reason: `cross-origin request refused (Origin: ${origin})` };
  }
  return undefined;
}

/** Refuse a request without the token, when there is one. */
export function checkToken(req: IncomingMessage, token: string | undefined): Refusal | undefined {
  if (token === undefined || hasToken(req, token)) return undefined;
  return { status: 401, reason: 'this dashboard needs its token: Authorization: Bearer <token> or X-Tusker-Token' };
}
