--[[ queue/claim — take the first available job (highest priority, then oldest) with a lease.
Derives the claimed job's key under the queue's own tag ('<base>:job:<id>'): KEYS[6] guards it.
KEYS[1] available  KEYS[2] claimed  KEYS[3] wake  KEYS[4] paused  KEYS[5] fence
KEYS[6] migration_guard: never written; a declared key that is missing makes Redis Cluster refuse the
        script (TRYAGAIN) while its slot migrates, so the keys derived here are never read half-moved
        (docs/cluster.md, 'Slot migration')
KEYS[7] claim_guard (optional): the claimer's guard; a claim queued behind a blocking read
        claims nothing once its claimer stopped (see lib/claims.lua, core/consumer.ts)
ARGV[1] base  ARGV[2] owner (the claim's id)  ARGV[3] lease (ms)  ARGV[4] count: claim up to this
        many (at most 1,000, which keeps every `unpack` below Lua's limit)
Reply: {'OK', now, id, data, attempt, cancelCount, deadline, timeout, token, attempts, readyAt, tp, id, data, …}
       — ten fields per claimed job (attempts: how many the job may have; readyAt: since when it
       was available, server ms; tp: the publisher's trace context, '' when none), none when no job is available or the queue is paused. Job i of one
       claim gets fencing token first + i (one INCRBY of the queue's counter per claim).
Events: none.
]]
--@include lib/queue.lua

local k = { available = KEYS[1], claimed = KEYS[2], wake = KEYS[3], fence = KEYS[5] }
local base, owner, lease, count = ARGV[1], ARGV[2], tonumber(ARGV[3]), math.min(tonumber(ARGV[4]), 1000)

local reply = { 'OK', now_ms() }
if claimer_stopped(KEYS[7], k.wake) then return reply end
if redis.call('EXISTS', KEYS[4]) == 1 then
  -- paused: markers would only wake claimers that cannot claim; resume() pushes new ones
  drop_stale_markers(k.wake)
  return reply
end
local popped = redis.call('ZPOPMIN', k.available, count)
if not popped[1] then
  drop_stale_markers(k.wake)
  return reply
end
local deadline = now_ms() + lease
local first_token = take_tokens(k.fence, #popped / 2)
local scored = {}
for i = 1, #popped, 2 do
  local id = popped[i]
  local job = base .. ':job:' .. id
  local f = redis.call('HMGET', job, 'data', 'cancelCount', 'timeout', 'attempt', 'attempts', 'availableAt', 'createdAt', 'tp')
  local attempt = (tonumber(f[4]) or 0) + 1
  local token = first_token + (i + 1) / 2
  -- its score too: a claim handed back unused returns to the same place
  redis.call('HSET', job, 'state', 'claimed', 'owner', owner, 'deadline', deadline, 'claimedAt', now_ms(), 'attempt', attempt,
    'score', popped[i + 1], 'token', token)
  scored[#scored + 1] = deadline
  scored[#scored + 1] = id
  local n = #reply
  reply[n + 1], reply[n + 2], reply[n + 3] = id, f[1], attempt
  reply[n + 4], reply[n + 5], reply[n + 6] = tonumber(f[2]) or 0, deadline, tonumber(f[3]) or 0
  reply[n + 7], reply[n + 8] = token, tonumber(f[5]) or 1
  reply[n + 9], reply[n + 10] = tonumber(f[6]) or tonumber(f[7]) or 0, f[8] or ''
end
redis.call('ZADD', k.claimed, unpack(scored))
-- Claimers block on the wake list before claiming: while jobs remain, keep at least one marker, so
-- the next claimer does not wait. (Markers can run short of jobs: resume() pushes at most 1,000.)
if #popped == 2 * count and redis.call('LLEN', k.wake) == 0 and redis.call('ZCARD', k.available) > 0 then
  redis.call('RPUSH', k.wake, '1')
end
return reply
