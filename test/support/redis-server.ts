import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchRedis, terminate } from './redis-process';

/**
 * Starts private `redis-server` processes on free loopback ports and removes them afterwards.
 * Tests, the demo and the benchmarks use this; none of them ever touches a Redis they did not
 * start (unless REDIS_URL is set for the demo or a benchmark on purpose). Standalone servers now;
 * clusters and several masters will be started here too.
 */

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stop the server (SIGTERM, then SIGKILL) and delete its folder. Safe to call twice. */
  stop(): Promise<void>;
  /** Stop the server abruptly, keeping its port, as a crash would. */
  kill(): Promise<void>;
  /**
   * Start the server again on the same port. By default it is killed first (if running) and comes
   * back with an empty dataset — or, when started with `appendonly`, with what its AOF had synced.
   * `graceful`: shut it down with SIGTERM instead, so an AOF holds every write acknowledged before.
   * `downFor`: stay down this long (ms) before starting again.
   */
  restart(options?: { readonly graceful?: boolean; readonly downFor?: number }): Promise<void>;
  /** Pause the server (SIGSTOP): it keeps its connections and answers nothing, as a frozen host would. */
  freeze(): void;
  /** Let a frozen server go on (SIGCONT). Safe to call when it is not frozen. */
  thaw(): void;
}


/** The redis-server binary, or undefined when it is not installed. */
export function redisServerBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path ? path : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface RedisServerOptions {
  /** Keep an append-only file (`appendfsync everysec`), so a restart reloads the data. */
  readonly appendonly?: boolean;
  /** Start as a replica of the master on this loopback port (`--replicaof 127.0.0.1 <port>`). */
  readonly replicaOf?: number;
  /** Allow `DEBUG` (`--enable-debug-command yes`): DEBUG SLEEP freezes it, DEBUG RELOAD makes it load. */
  readonly debug?: boolean;
}

/** Start a private standalone redis-server on a free loopback port. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = redisServerBinary();
  if (!binary) throw new Error(MISSING_REDIS);
  const dir = mkdtempSync(join(tmpdir(), 'tusker-redis-'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const extra = options.appendonly ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'];
      if (options.replicaOf !== undefined) extra.push('--replicaof', '127.0.0.1', String(options.replicaOf));
      if (options.debug) extra.push('--enable-debug-command', 'yes');
      let child = await launch(binary, port, dir, extra);
      let stopped = false;
      let frozen = false;
      const thaw = () => {
        if (frozen) child.kill('SIGCONT');
        frozen = false;
      };
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        async stop() {
          if (stopped) return;
          stopped = true;
          thaw(); // a stopped process would not see SIGTERM
          await terminate(child);
          rmSync(dir, { recursive: true, force: true });
        },
        async kill() {
          await terminate(child, 'SIGKILL');
        },
        async restart(how = {}) {
          thaw();
          await terminate(child, how.graceful ? 'SIGTERM' : 'SIGKILL');
          if (how.downFor) await new Promise((resolve) => setTimeout(resolve, how.downFor));
          child = await launch(binary, port, dir, extra);
        },
        freeze() {
          child.kill('SIGSTOP');
          frozen = true;
        },
        thaw,
      };
    } catch (error) {
      // another process may have taken the port between our probe and redis-server's bind
      if (attempt >= 5) throw error;
    }
  }
}

export const MISSING_REDIS =
  'redis-server was not found on PATH. Install Redis (Debian/Ubuntu: `sudo apt-get install redis-server`, ' +
  'macOS: `brew install redis`) or set REDIS_URL to a Redis you want Tusker to use.';

function launch(binary: string, port: number, dir: string, extra: readonly string[]) {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...extra, '--dir', dir, '--loglevel', 'notice'];
  return launchRedis(binary, args, `redis-server on port ${port}`);
}
