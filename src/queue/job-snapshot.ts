import type { JobSnapshot, JobState, JobTimeline } from './options';

/** A job's snapshot from its hash, read flat (field, value, field, value, …) by queue/inspect. */
export function jobSnapshot<T>(id: string, flat: readonly string[]): JobSnapshot<T> {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string;
  return {
    id,
    state: f.state as JobState,
    data: JSON.parse(f.data ?? 'null') as T,
    priority: Number(f.priority ?? 0),
    attempt: Number(f.attempt ?? 0),
    attempts: Number(f.attempts ?? 1),
    cancelCount: Number(f.cancelCount ?? 0),
    result: f.result === undefined ? undefined : JSON.parse(f.result),
    error: f.error,
    timeline: timelineOf(f),
  };
}

function timelineOf(f: Record<string, string>): JobTimeline {
  const at = (field: string) => (f[field] === undefined ? undefined : new Date(Number(f[field])));
  return {
    created: at('createdAt'),
    available: at('availableAt'),
    claimed: at('claimedAt'),
    stalled: at('stalledAt'),
    finished: at('finishedAt'),
    failed: at('failedAt'),
  };
}
