/**
 * The dashboard's JSON reads (GET), all through `tusker.inspect`. Each costs Redis a bounded
 * number of commands whatever the number of jobs: the overview reads counts (one stats script per
 * queue and task group, and one MULTI of two ZCOUNTs per queue for the throughput chart, at most
 * `NAMES_SHOWN` names of each kind), and lists are pages of at most
 * `PAGE_SIZE` entries, each entry one script call.
 */
import type { JobSnapshot, JobState, QueueStats } from '../queue/options';
import type { TaskSnapshot, TaskStats, TasksInFlight } from '../tasks/options';
import type { AttemptView, LockView } from '../inspect/inspector';
import type { Tusker } from '../tusker';
import type { ThroughputRing, ThroughputSeries } from './throughput';

/** The most recently seen names of each kind that the overview shows. */
export const NAMES_SHOWN = 100;
/** Jobs or failed tasks on one page. */
export const PAGE_SIZE = 50;

export const JOB_STATES: readonly JobState[] = ['available', 'claimed', 'delayed', 'stalled', 'failed', 'finished'];

/** A request the API cannot answer: its status and message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What `GET api/overview` answers. */
export interface Overview {
  readonly readOnly: boolean;
  readonly queues: readonly ({ readonly name: string; readonly seenAt: Date } & QueueStats)[];
  readonly taskGroups: readonly ({ readonly name: string; readonly seenAt: Date } & TaskStats)[];
  readonly locks: readonly LockView[];
  readonly once: readonly AttemptView[];
  readonly throughput: ThroughputSeries;
}

export async function overview(tusker: Tusker, ring: ThroughputRing, readOnly: boolean): Promise<Overview> {
  const inspect = tusker.inspect;
  const limit = { limit: NAMES_SHOWN };
  const [queues, groups, locks, once] = await Promise.all([inspect.queues(limit), inspect.groups(limit), inspect.locks(limit), inspect.onceKeys(limit)]);
  const readings = await Promise.all(
    queues.map(async (q) => {
      const r = await inspect.queue(q.name).settledSince(ring.since(q.name));
      return { queue: q.name, finished: r.finished, failed: r.failed, at: r.at.getTime() };
    }),
  );
  ring.record(readings);
  return {
    readOnly,
    queues: queues.map((q) => ({ name: q.name, seenAt: q.seenAt, ...q.stats })),
    taskGroups: groups.map((g) => ({ name: g.name, seenAt: g.seenAt, ...g.stats })),
    locks,
    once,
    throughput: ring.series(),
  };
}

/** A job as a list shows it: without its data and result, which the job's own page shows. */
export type JobSummary = Omit<JobSnapshot, 'data' | 'result'>;

/** What `GET api/queues/<name>/jobs?state=&page=` answers. */
export interface JobPage {
  readonly queue: string;
  readonly state: JobState;
  readonly page: number;
  readonly pageSize: number;
  /** How many jobs are in this state now. */
  readonly total: number;
  readonly jobs: readonly JobSummary[];
}

export function pageNumber(text: string | null): number {
  if (text === null || text === '') return 0;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 1_000_000) throw new HttpError(400, `page: expected a whole number from 0, got ${JSON.stringify(text)}`);
  return n;
}

export function jobState(text: string | null): JobState {
  const state = text ?? 'failed';
  if (!(JOB_STATES as readonly string[]).includes(state)) throw new HttpError(400, `state: expected one of ${JOB_STATES.join(', ')}, got ${JSON.stringify(state)}`);
  return state as JobState;
}

export async function jobPage(tusker: Tusker, queue: string, state: JobState, page: number): Promise<JobPage> {
  const view = tusker.inspect.queue(queue);
  const [stats, ids] = await Promise.all([view.stats(), view.list(state, { offset: page * PAGE_SIZE, limit: PAGE_SIZE })]);
  const jobs = await Promise.all(ids.map((id) => view.job(id)));
  return {
    queue,
    state,
    page,
    pageSize: PAGE_SIZE,
    total: stats[state],
    // a job settled or retracted between the list and its read is left out of this page
    jobs: jobs.filter((j) => j !== null).map(({ data: _data, result: _result, ...summary }) => summary),
  };
}

export async function job(tusker: Tusker, queue: string, id: string): Promise<JobSnapshot> {
  const snapshot = await tusker.inspect.queue(queue).job(id);
  if (!snapshot) throw new HttpError(404, `no job ${JSON.stringify(id)} in queue ${JSON.stringify(queue)}`);
  return snapshot;
}

/** What `GET api/groups/<name>?page=` answers: the counts, what is in flight, and a page of failed tasks with their parts. */
export interface GroupPage {
  readonly group: string;
  readonly stats: TaskStats;
  /** Parts in flight, tasks being handled and released tasks waiting, at most a page of each (soonest deadline first). */
  readonly inFlight: TasksInFlight;
  readonly page: number;
  readonly pageSize: number;
  readonly failed: readonly TaskSnapshot[];
}

export async function groupPage(tusker: Tusker, group: string, page: number): Promise<GroupPage> {
  const view = tusker.inspect.group(group);
  const [stats, inFlight, names] = await Promise.all([
    view.stats(),
    view.inFlight({ limit: PAGE_SIZE }),
    view.failed({ offset: page * PAGE_SIZE, limit: PAGE_SIZE }),
  ]);
  const failed = await Promise.all(names.map((name) => view.task(name)));
  return { group, stats, inFlight, page, pageSize: PAGE_SIZE, failed: failed.filter((t) => t !== null) };
}

/** One task with its parts in flight and their deadlines. */
export async function task(tusker: Tusker, group: string, name: string): Promise<TaskSnapshot> {
  const snapshot = await tusker.inspect.group(group).task(name);
  if (!snapshot) throw new HttpError(404, `no task ${JSON.stringify(name)} in task group ${JSON.stringify(group)}`);
  return snapshot;
}
