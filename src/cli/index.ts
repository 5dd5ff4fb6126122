#!/usr/bin/env node
/**
 * The `tusker` command line: look at what Tusker holds in Redis, act on queues and task groups,
 * and check a server with `doctor`. Parsing is commander's; each command is a function of
 * (context, arguments) resolving with its exit code (see context.ts and docs/cli.md).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { TuskerError, InvalidArgumentError, ConnectionError } from '../errors';
import { EXIT, UsageError, contextFor, type CliContext, type GlobalFlags, type Output } from './context';
import { dashboardCommand, type DashboardFlags } from './commands/dashboard';
import { doctorCommand } from './commands/doctor';
import { locksCommand } from './commands/locks';
import { onceCommand } from './commands/once';
import { queueCommand, queuesCommand, type QueueFlags } from './commands/queue';
import { statsCommand } from './commands/stats';
import { tasksCommand } from './commands/tasks';
import { connectTarget, describeTarget, targetOf } from './target';

const DEFAULT_URL = 'redis://127.0.0.1:6379';

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`expected a whole number, got ${JSON.stringify(value)}`);
  return n;
}

/** The version of the package this CLI belongs to (dist/cli/ → package.json two levels up). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Parse `argv` (without node and the script), run the command, resolve with the exit code. */
export async function main(argv: readonly string[], out: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('tusker')
    .description('Look at and operate Tusker (locks, task barriers, job queues, run-once) in Redis')
    .addOption(new Option('--redis <url>', 'Redis URL').default(env.REDIS_URL || DEFAULT_URL, '$REDIS_URL, then redis://127.0.0.1:6379'))
    .option('--cluster <host:port,…>', 'Redis Cluster nodes to start from (instead of --redis)')
    .option('--sentinel <host:port,…>', 'sentinels to ask for the master (instead of --redis)')
    .option('--name <master>', "the master's name with --sentinel (default: mymaster)")
    .option('--prefix <prefix>', 'key prefix', 'tusker')
    .option('--json', 'print stable JSON instead of tables', false)
    .option('-y, --yes', 'do destructive actions without asking', false)
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out.line(s.trimEnd()), writeErr: (s) => out.note(s.trimEnd()) })
    .showHelpAfterError();

  const run =
    <A extends unknown[]>(command: (ctx: CliContext, ...args: A) => Promise<number>) =>
    async (...args: unknown[]) => {
      const self = args[args.length - 1] as Command;
      const redisGiven = program.getOptionValueSource('redis') === 'cli';
      code = await withContext(self.optsWithGlobals() as GlobalFlags, redisGiven, env, out, (ctx) => command(ctx, ...(args.slice(0, -1) as A)));
    };

  program.command('stats').description('counts of every registered queue and task group, held locks, running once attempts').action(run(statsCommand));
  program.command('queues').description('every registered queue with its counts').action(run(queuesCommand));
  program
    .command('queue <name> [action] [arg]')
    .description('one queue: stats, list <state>, show <id>, retry <id>, retract <id>, cancel <id>, retry-failed, pause, resume')
    .option('--limit <n>', 'list: at most n jobs', integer, 20)
    .option('--offset <n>', 'list: skip n jobs', integer, 0)
    .option('--reason <text>', 'cancel: the failed job\'s error', undefined)
    .option('--requeue', 'cancel: make the job available again instead of failing it', false)
    .action(
      run((ctx, name: string, action: string | undefined, arg: string | undefined, o: QueueFlags) =>
        queueCommand(ctx, name, action, arg, { ...o, limit: Math.max(1, o.limit) }),
      ),
    );
  program
    .command('tasks [group] [action] [task]')
    .description('task groups; one group; show <task>; retry-failed <task>')
    .action(run((ctx, group: string | undefined, action: string | undefined, task: string | undefined) => tasksCommand(ctx, group, action, task)));
  program
    .command('locks [name]')
    .description('locks: holder, fencing token, expiry, waiters')
    .option('--group <group>', 'the lock group of <name>')
    .action(run((ctx, name: string | undefined, o: { group?: string }) => locksCommand(ctx, name, o.group)));
  program
    .command('once [key]')
    .description('run-once and paired tasks: status, attempt, owner, lease')
    .option('--group <group>', 'the group of <key>')
    .option('--paired', 'a paired task (tusker.paired) rather than a run-once one', false)
    .action(run((ctx, key: string | undefined, o: { group?: string; paired: boolean }) => onceCommand(ctx, key, o.group, o.paired)));
  program
    .command('dashboard')
    .description('serve the web dashboard (queues, task groups, locks, once keys, actions) until Ctrl-C')
    .option('--host <host>', 'address to listen on (anything but loopback needs --token)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: a free one)', integer, 4680)
    .addOption(new Option('--token <token>', 'secret the API and the actions require (the printed URL carries it after #)').env('TUSKER_DASHBOARD_TOKEN'))
    .option('--read-only', 'refuse every action and hide their buttons', false)
    .action(run((ctx, o: DashboardFlags) => dashboardCommand(ctx, o)));
  program.command('doctor').description('check the server settings and Tusker invariants; exit 1 on a problem').action(run(doctorCommand));
  program
    .command('demo')
    .description('run the main demo (source checkout only): streams of chunks across worker processes')
    .action(async () => {
      code = await demo(out, env, program.getOptionValueSource('redis') === 'cli' ? (program.opts().redis as string) : undefined);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0 ? EXIT.ok : EXIT.unusable;
    if (error instanceof UsageError) {
      out.note(`tusker: ${error.message}`);
      return EXIT.unusable;
    }
    throw error;
  }
  return code;
}

/** Connect, run, close; the errors a command can meet become one line and an exit code. */
async function withContext(
  flags: GlobalFlags,
  redisGiven: boolean,
  env: NodeJS.ProcessEnv,
  out: Output,
  command: (ctx: CliContext) => Promise<number>,
): Promise<number> {
  const target = targetOf({ ...flags, redisGiven }, env); // a UsageError here ends the parse with exit 2
  const address = describeTarget(target);
  let client;
  try {
    client = await connectTarget(target);
  } catch (error) {
    out.note(`tusker: cannot connect to ${address}: ${(error as Error).message}`);
    return EXIT.unusable;
  }
  let ctx: CliContext | undefined;
  try {
    ctx = contextFor(flags, client, out, address); // a bad --prefix is refused here, by Tusker itself
    return await command(ctx);
  } catch (error) {
    if (error instanceof UsageError || error instanceof InvalidArgumentError) {
      out.note(`tusker: ${error.message}`);
      return EXIT.unusable;
    }
    if (error instanceof ConnectionError) {
      out.note(`tusker: lost ${address}: ${error.message}`);
      return EXIT.unusable;
    }
    if (error instanceof TuskerError) {
      out.note(`tusker: ${error.message}`);
      return EXIT.problem;
    }
    throw error;
  } finally {
    await ctx?.tusker.close();
    client.disconnect();
  }
}

/** Run examples/stream-demo.ts with tsx, as `npm run demo` does; only a source checkout has it. */
async function demo(out: Output, env: NodeJS.ProcessEnv, redis: string | undefined): Promise<number> {
  const root = join(__dirname, '..', '..');
  const example = join(root, 'examples', 'stream-demo.ts');
  let tsx: string;
  try {
    tsx = require.resolve('tsx/cli', { paths: [root] });
  } catch {
    tsx = '';
  }
  if (!existsSync(example) || !tsx) {
    out.note('tusker: the demo runs from a source checkout (examples/stream-demo.ts with tsx); clone the repository and run `npm run demo`');
    return EXIT.unusable;
  }
  const child = spawn(process.execPath, [tsx, example], { stdio: 'inherit', cwd: root, env: redis ? { ...env, REDIS_URL: redis } : env });
  return new Promise((resolve) => child.on('exit', (status) => resolve(status ?? EXIT.problem)));
}

if (require.main === module) {
  const out: Output = { line: (text) => process.stdout.write(`${text}\n`), note: (text) => process.stderr.write(`${text}\n`) };
  main(process.argv.slice(2), out).then(
    (code) => {
      // everything is closed by now, but a failed ioredis connect leaves a 2 s timer behind:
      // exit once the output is written rather than wait for it
      process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
    },
    (error: unknown) => {
      process.stderr.write(`tusker: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = EXIT.problem;
    },
  );
}
