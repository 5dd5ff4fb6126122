import type { TasksInFlight } from './options';

/**
 * `inFlight`'s reply (tasks/inspect.lua 'in-flight') as a TasksInFlight: parts are
 * `["task","part"]` members of the part-deadlines set (see lib/tasks.lua), scores are deadlines.
 */
export function tasksInFlight(reply: { parts: readonly string[]; processing: readonly string[]; released: readonly string[] }): TasksInFlight {
  const parts: { task: string; part: string; deadline: Date }[] = [];
  for (let i = 0; i + 1 < reply.parts.length; i += 2) {
    const [task, part] = JSON.parse(reply.parts[i] as string) as [string, string];
    parts.push({ task, part, deadline: new Date(Number(reply.parts[i + 1])) });
  }
  const processing: { task: string; deadline: Date }[] = [];
  for (let i = 0; i + 1 < reply.processing.length; i += 2) {
    processing.push({ task: reply.processing[i] as string, deadline: new Date(Number(reply.processing[i + 1])) });
  }
  return { parts, processing, released: [...reply.released] };
}
