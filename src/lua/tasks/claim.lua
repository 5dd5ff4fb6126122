--[[ tasks/claim — take the oldest released task for a handler, with a processing lease.
Derives the claimed task's key under the group's own tag (see lib/tasks.lua, task_keys): KEYS[5] guards it.
KEYS[1] released  KEYS[2] processing  KEYS[3] wake  KEYS[4] fence
KEYS[5] migration_guard: never written; a declared key that is missing makes Redis Cluster refuse the
        script (TRYAGAIN) while its slot migrates, so the keys derived here are never read half-moved
        (docs/cluster.md, 'Slot migration')
KEYS[6] claim_guard (optional): the claimer's guard; a claim queued behind a blocking read
        claims nothing once its claimer stopped (see lib/claims.lua, core/consumer.ts)
ARGV[1] base (the group's key prefix '<prefix>:{t:<group>}')  ARGV[2] owner (the claim's id)
Reply: {'OK', name, info, attempt, attempts_left, deadline, now, token}, or {'OK', ''} when no
       task is released. token: the claim's fencing token, from the group's counter.
Events: none ('released' was emitted when it was queued).
]]
--@include lib/tasks.lua

local k = { released = KEYS[1], processing = KEYS[2], wake = KEYS[3], fence = KEYS[4] }
local base, owner = ARGV[1], ARGV[2]

if claimer_stopped(KEYS[6], k.wake) then return { 'OK', '' } end

while true do
  local name = redis.call('LPOP', k.released)
  if not name then
    drop_stale_markers(k.wake)
    return { 'OK', '' }
  end
  local t = task_keys(base, name)
  local f = redis.call('HMGET', t.task, 'state', 'info', 'attempts', 'attemptsLeft', 'timeout')
  -- skip stale entries (a task forgotten or retried by hand while queued)
  if f[1] == 'released' then
    local attempt = tonumber(f[3]) - tonumber(f[4]) + 1
    local deadline = now_ms() + tonumber(f[5])
    -- from the group's counter, not the task's hash: a forgotten task's name starting again
    -- must not hand out tokens a resource has already seen
    local token = next_token(k.fence)
    redis.call('HSET', t.task, 'state', 'processing', 'owner', owner, 'token', token, 'deadline', deadline, 'attempt', attempt)
    redis.call('ZADD', k.processing, deadline, name)
    return { 'OK', name, f[2], attempt, tonumber(f[4]), deadline, now_ms(), token }
  end
end
