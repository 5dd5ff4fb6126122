/**
 * What every `tusker` command receives: a Tusker on a connection that fails fast, the output to
 * write to, and the global flags. Commands are functions of (context, arguments) that resolve with
 * an exit code, so they can be run and tested without a terminal.
 *
 * Exit codes (docs/cli.md): 0 ok; 1 a problem found, or the thing asked for does not exist;
 * 2 cannot connect, or bad usage (including a destructive command without `--yes` off a terminal).
 */
import { createInterface } from 'node:readline/promises';
import type { RedisClient } from '../redis/connection';
import { Tusker } from '../tusker';

export const EXIT = { ok: 0, problem: 1, unusable: 2 } as const;

/** Where a command writes: `line` for results (stdout), `note` for messages about them (stderr). */
export interface Output {
  line(text: string): void;
  note(text: string): void;
}

/** The global flags. */
export interface GlobalFlags {
  readonly redis: string;
  /** `host:port,…` of some Redis Cluster nodes (instead of `redis`). */
  readonly cluster?: string;
  /** `host:port,…` of sentinels (instead of `redis`), with the master's `name`. */
  readonly sentinel?: string;
  readonly name?: string;
  readonly prefix: string;
  readonly json: boolean;
  readonly yes: boolean;
}

export interface CliContext {
  readonly tusker: Tusker;
  /** The raw connection, for what only doctor reads (INFO, CONFIG GET, COMMAND INFO): a Cluster with `--cluster`. */
  readonly client: RedisClient;
  readonly flags: GlobalFlags;
  readonly out: Output;
  /** The address without credentials, for messages. */
  readonly address: string;
  /** Print `value` as stable JSON (with `--json`) or call `human` to print it for people. */
  print(value: unknown, human: () => void): void;
  /** Whether a destructive action may go ahead: `--yes`, or a "y" typed on a terminal. */
  confirm(question: string): Promise<boolean>;
}

/** A usage mistake the command line parser could not see (exit 2). */
export class UsageError extends Error {}

/** The context for `flags` on an open connection. */
export function contextFor(flags: GlobalFlags, client: RedisClient, out: Output, address: string, stdin: NodeJS.ReadStream = process.stdin): CliContext {
  const tusker = new Tusker({ connection: client, prefix: flags.prefix });
  return {
    tusker,
    client,
    flags,
    out,
    address,
    print(value, human) {
      if (flags.json) out.line(JSON.stringify(value, null, 2));
      else human();
    },
    async confirm(question) {
      if (flags.yes) return true;
      if (!stdin.isTTY) {
        out.note(`tusker: ${question} — refusing without --yes (not a terminal)`);
        return false;
      }
      const rl = createInterface({ input: stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
      } finally {
        rl.close();
      }
    },
  };
}
