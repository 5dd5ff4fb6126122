import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkName,
  checkOptions,
  optionKeys,
  optionName,
  checkPositiveDuration,
  checkSignal,
} from '../internal/arguments';
import type { Runtime } from '../core/runtime';
import { checkDurability, durabilityPolicy, type DurabilityOptions } from '../redis/durability';
import { AttemptRun, type AttemptContext, type AttemptEvent } from './attempt-run';
import { AttemptScripts } from './scripts';

/** Options of `tusker.once(key, fn, options)`. */
export interface OnceOptions {
  /** How many attempts may run in all, across every process; an integer >= 1. @default 5 */
  readonly attempts?: number;
  /** @deprecated Use `attempts` (same meaning). */
  readonly maxAttempts?: number;
  /** An attempt's lease in ms: an owner that stops renewing it is replaced after this long. @default 5_000 */
  readonly lease?: number;
  /** @deprecated Use `lease` (same meaning). */
  readonly lockTimeout?: number;
  /** How long the outcome is remembered, in ms, so late callers get it instead of running the work again. @default 86_400_000 (24 h) */
  readonly retention?: number;
  /** Keep the task's state as a field of this group's hash (one Redis Cluster slot per group). */
  readonly group?: string;
  /** Renew the attempt's lease while `fn` runs. Off: an attempt that has not finished within its `lease` counts as failed. @default true */
  readonly autoExtend?: boolean;
  /** Stop waiting (and abort a running attempt) when this aborts; the call rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Progress of this caller: acquired, standing by, took over, done elsewhere, max attempts… */
  readonly onProgress?: (event: AttemptEvent) => void;
  /**
   * Wait for replicas after each claim, renewal and finish of an attempt (see docs/durability.md);
   * `false` turns the instance's `durability` off here. A finish that falls short rejects the call
   * with DurabilityError (`onShortfall: 'throw'`); a claim or renewal that falls short goes on, warned.
   * @default the instance's `durability`
   */
  readonly durability?: DurabilityOptions | false;
}

/** Options of `tusker.paired(key, fn, options)`. */
export interface PairedOptions extends Omit<OnceOptions, 'attempts' | 'maxAttempts' | 'retention'> {
  /** How long the outcome is remembered, in ms. @default 3_600_000 (1 h) */
  readonly retention?: number;
}

/** How `tusker.once` ended, the same for every caller. */
export type OnceResult =
  | { readonly status: 'done'; readonly ranHere: boolean; readonly attempt: number }
  | { readonly status: 'max-attempts'; readonly attempt: number };

/** How `tusker.paired` ended for this caller. */
export type PairedResult =
  | { readonly status: 'done'; readonly ranHere: boolean; readonly attempt: number }
  | { readonly status: 'failed'; readonly attempt: number; readonly error: unknown };

/** What run-once and paired tasks use of the runtime. */
type AttemptsRuntime = Pick<Runtime, 'client' | 'keys' | 'timers' | 'subscriber' | 'inFlight' | 'assertOpen' | 'durability'>;

const DAY_MS = 86_400_000;

const ONCE_OPTIONS = optionKeys<OnceOptions>(
  { attempts: true, maxAttempts: 'attempts', lease: true, lockTimeout: 'lease', retention: true, group: true, autoExtend: true, signal: true, onProgress: true, durability: true },
  'tusker.once()',
);
const PAIRED_OPTIONS = optionKeys<PairedOptions>(
  { lease: true, lockTimeout: 'lease', retention: true, group: true, autoExtend: true, signal: true, onProgress: true, durability: true },
  'tusker.paired()',
);

/** Validates the options common to `once` and `paired`, before any Redis call. */
function common(context: AttemptsRuntime, what: string, key: unknown, fn: unknown, options: unknown, retentionDefault: number) {
  const name = checkName('key', key);
  checkFunction('fn', fn);
  const o = checkOptions<OnceOptions>('options', options, what === 'paired' ? PAIRED_OPTIONS : ONCE_OPTIONS);
  const settings = {
    key: name,
    fn: fn as (context: AttemptContext) => unknown,
    leaseMs: o.lease === undefined ? 5_000 : checkPositiveDuration(optionName('options', o, 'lease'), o.lease),
    keepMs: o.retention === undefined ? retentionDefault : checkPositiveDuration('options.retention', o.retention),
    group: o.group === undefined ? undefined : checkName('options.group', o.group),
    autoExtend: o.autoExtend === undefined ? true : checkBoolean('options.autoExtend', o.autoExtend),
    signal: checkSignal('options.signal', o.signal),
    onProgress: o.onProgress === undefined ? undefined : checkFunction<(e: AttemptEvent) => void>('options.onProgress', o.onProgress),
    durability: durabilityPolicy(context.durability, checkDurability('options.durability', o.durability), `${what} '${name}'`),
    options: o,
  };
  context.assertOpen(what);
  return settings;
}

function start(context: AttemptsRuntime, kind: 'o' | 'p', s: ReturnType<typeof common>, maxAttempts: number, perCaller: 'retry' | 'once') {
  const keys = context.keys.attempts(kind, s.key, s.group);
  const scripts = new AttemptScripts(context.client, keys, context.timers, { leaseMs: s.leaseMs, maxAttempts, keepMs: s.keepMs, durability: s.durability });
  return new AttemptRun({
    key: s.key,
    scripts,
    subscriber: context.subscriber,
    inFlight: context.inFlight,
    timers: context.timers,
    leaseMs: s.leaseMs,
    maxAttempts,
    autoExtend: s.autoExtend,
    perCaller,
    signal: s.signal,
    onProgress: s.onProgress,
    fn: s.fn,
  }).run();
}

/** @internal See `Tusker.once`. */
export async function runOnce(context: AttemptsRuntime, key: string, fn: (attempt: AttemptContext) => unknown, options?: OnceOptions): Promise<OnceResult> {
  const s = common(context, 'once', key, fn, options, DAY_MS);
  const maxAttempts = s.options.attempts === undefined ? 5 : checkInteger(optionName('options', s.options, 'attempts'), s.options.attempts, 1);
  return (await start(context, 'o', s, maxAttempts, 'retry')) as OnceResult;
}

/** @internal See `Tusker.paired`. */
export async function runPaired(context: AttemptsRuntime, key: string, fn: (attempt: AttemptContext) => unknown, options?: PairedOptions): Promise<PairedResult> {
  const s = common(context, 'paired', key, fn, options, DAY_MS / 24);
  return (await start(context, 'p', s, 0, 'once')) as PairedResult;
}
