import { describe, expect, it } from 'vitest';
import { Tusker } from '../../src/index';
import { readHistory } from './support/history';
import { Pool, until, type NemesisCounts } from './support/pool';
import { runSeed, seeded } from './support/random';
import { ok, writeRows, type Row } from './support/results';
import { invariantProblems, TOPOLOGIES, useTopology } from './support/topology';

/*
 * Task barriers: 500 tasks × 20 parts over 4 worker processes with kill -9, pauses, parts that
 * run past their lease (their unlock comes late, after the part was redone elsewhere) and handlers
 * that fail. This process is the stream: it sends each part to a random worker and sends it again
 * when the worker's answer is not `unlocked` or does not come; it closes each task expecting 20
 * parts. Checked afterwards:
 * - released while a part was in flight: an unlock that counted (`unlocked`) whose server time,
 *   read before it was sent, is later than the server time at which a handler of the task started;
 * - completions per task: exactly one `completed` event per completed task, none for a failed one;
 * - never released: a task neither completed nor failed at the end;
 * - failed although attempts were left: a failed task whose last attempt was not its last allowed
 *   (an attempt is used by a handler failure or by a worker killed while it ran).
 */
const SCENARIO = 'tasks';
const TASKS = Number(process.env.CHAOS_TASKS ?? 500);
const PARTS = 20;
const ATTEMPTS = 3;
const seed = runSeed();

describe.each(TOPOLOGIES)(`chaos: task barriers on %s (seed ${seed})`, (topologyName) => {
  const run = useTopology(topologyName, 'tasks');

  it('every task is released exactly once, never with a part in flight', async () => {
    const random = seeded(seed);
    const tusker = new Tusker({ connection: run.topology.connection, prefix: 'chaos' });
    const group = tusker.tasks('chaos', { retention: 3_600_000 });
    const completed = new Map<string, number>();
    const failedEvents = new Map<string, number>();
    await group.on('completed', ({ task }) => completed.set(task, (completed.get(task) ?? 0) + 1));
    await group.on('failed', ({ task }) => failedEvents.set(task, (failedEvents.get(task) ?? 0) + 1));

    // part dispatch: to a random worker; again on a non-`unlocked` answer or none within RESEND_MS
    const RESEND_MS = 2_500;
    let nextId = 0;
    let resent = 0;
    const done = new Set<string>();
    const outstanding = new Map<number, { key: string; task: string; part: string; timer: NodeJS.Timeout }>();
    const partDone = new Map<string, () => void>();
    const dispatch = (task: string, part: string) => {
      const key = `${task}/${part}`;
      if (done.has(key)) return;
      const id = ++nextId;
      const timer = setTimeout(() => {
        if (!outstanding.delete(id)) return;
        resent += 1;
        dispatch(task, part);
      }, RESEND_MS);
      outstanding.set(id, { key, task, part, timer });
      // a dead slot is being refilled: try the others
      for (let n = 0, slot = random.int(0, 3); n < 4; n++, slot = (slot + 1) % 4) if (pool.send(slot, { type: 'part', id, task, part })) return;
    };
    const pool = new Pool({
      worker: 'task-worker.mjs',
      size: 4,
      env: () => ({ ...run.topology.workerEnv, PREFIX: 'chaos', HISTORY: run.history, SEED: String(seed), PART_TTL: '600', LATE: '0.01', FAIL: '0.15' }),
      onMessage: (_slot, m) => {
        const message = m as { type: string; id: number; task: string; part: string; result: string; state?: string; code?: string };
        if (message.type !== 'done') return;
        const o = outstanding.get(message.id);
        if (o) {
          clearTimeout(o.timer);
          outstanding.delete(message.id);
        }
        const key = `${message.task}/${message.part}`;
        // done: this unlock counted — or the task is past needing it (released once its expected
        // parts were unlocked: an earlier unlock of this part counted, and its answer was lost
        // with a killed worker)
        const moveOn = message.code === 'ERR_TASK_RELEASED' || ['released', 'processing', 'completed', 'failed'].includes(message.state ?? '');
        if (message.result === 'unlocked' || moveOn) {
          done.add(key);
          partDone.get(key)?.();
        } else if (o && !done.has(key)) {
          resent += 1;
          dispatch(message.task, message.part);
        }
      },
    });
    const counts: NemesisCounts = { kills: 0, pauses: 0 };
    pool.start();
    const stopNemesis = pool.nemesis(random, { every: [300, 900], killChance: 0.5, pause: [800, 1_500] }, counts);

    const names = Array.from({ length: TASKS }, (_, i) => `task-${i}`);
    // 20 tasks at a time: each task's parts go out, the task is closed, and the next one starts
    // once all its parts are done
    let cursor = 0;
    const runTask = async (task: string) => {
      const parts = Array.from({ length: PARTS }, (_, p) => `p${p}`);
      const allDone = Promise.all(parts.map((part) => new Promise<void>((resolve) => partDone.set(`${task}/${part}`, resolve))));
      for (const part of parts) dispatch(task, part);
      for (;;) {
        try {
          await group.closeTask(task, { n: task }, { attempts: ATTEMPTS, lease: 2_000, expectParts: PARTS });
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      await allDone;
    };
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (cursor < names.length) await runTask(names[cursor++] as string);
      }),
    );
    await stopNemesis();
    const finished = async () => {
      const s = await group.stats();
      return s.open + s.locked + s.released + s.processing === 0 && s.completed + s.failed >= TASKS;
    };
    await until(() => finished().catch(() => false), 120_000, 'every task to complete or fail', 250);
    await pool.close();

    const states = new Map<string, string>();
    const lastAttempt = new Map<string, number>();
    for (const task of names) {
      const snapshot = await group.get(task);
      states.set(task, snapshot?.state ?? 'gone');
      lastAttempt.set(task, snapshot?.attempt ?? 0);
    }
    await until(() => completed.size + failedEvents.size >= TASKS, 10_000, 'the last events', 100).catch(() => undefined);
    await tusker.close();
    const problems = await invariantProblems(run.topology.connection, 'chaos');

    const entries = readHistory(run.history);
    const firstHandle = new Map<string, number>();
    const handlerFailures = new Map<string, number>();
    for (const e of entries) {
      if (e.t === 'handle') firstHandle.set(e.task as string, Math.min(firstHandle.get(e.task as string) ?? Infinity, e.s as number));
      if (e.t === 'handler-failed') handlerFailures.set(e.task as string, (handlerFailures.get(e.task as string) ?? 0) + 1);
    }
    let inFlightAtRelease = 0;
    for (const e of entries) if (e.t === 'unlock' && e.result === 'unlocked' && (e.s as number) > (firstHandle.get(e.task as string) ?? Infinity)) inFlightAtRelease += 1;
    const completedTasks = names.filter((n) => states.get(n) === 'completed');
    const failedTasks = names.filter((n) => states.get(n) === 'failed');
    const row = (check: string, value: number, expected?: number, atLeast?: boolean): Row => ({ scenario: SCENARIO, topology: topologyName, check, value, expected, atLeast });
    const rows = [
      row('tasks × parts', TASKS * PARTS, TASKS * PARTS, true),
      row('kill -9', counts.kills),
      row('SIGSTOP pauses', counts.pauses),
      row('parts sent again (timed out, late or lost)', resent),
      row('late unlocks refused (stale / not in flight)', entries.filter((e) => e.t === 'unlock' && e.result !== 'unlocked').length),
      row('released while a part was in flight', inFlightAtRelease, 0),
      row('never released', names.length - completedTasks.length - failedTasks.length, 0),
      row('completed tasks without exactly one completion', completedTasks.filter((n) => completed.get(n) !== 1).length, 0),
      row('failed tasks with a completion', failedTasks.filter((n) => completed.has(n)).length, 0),
      // an attempt is used up by a handler that failed, or by one whose worker died (its
      // processing lease ran out): a failed task must have had all its attempts
      row('failed with attempts left', failedTasks.filter((n) => (lastAttempt.get(n) ?? 0) < ATTEMPTS).length, 0),
      row('... of which attempts lost with a killed worker', failedTasks.filter((n) => (handlerFailures.get(n) ?? 0) < ATTEMPTS).length),
      row('failed after all attempts failed', failedTasks.length),
    ];
    rows.push(row('invariant problems afterwards (tusker doctor)', problems, 0));
    writeRows(`${SCENARIO}-${topologyName}`, seed, rows);
    for (const r of rows) expect(ok(r), `${r.check}: ${r.value}`).toBe(true);
  });
});
