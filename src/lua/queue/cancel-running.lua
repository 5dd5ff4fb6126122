--[[ queue/cancel-running — cancel a job wherever it is, from any process. A running job's claim is
ended here, atomically with the job's next state, so a stuck or dead worker cannot keep it; the
worker learns of it by a message on the queue's cancel channel (its handler's signal aborts) or, if
it missed that, when its next lease renewal is refused (queue/settle replies JOB_CANCELLED), and
its late finish is rejected like any lost claim's.
KEYS[1] job  KEYS[2] available  KEYS[3] claimed  KEYS[4] delayed  KEYS[5] stalled  KEYS[6] failed
KEYS[7] wake  KEYS[8] seq  KEYS[9] events
KEYS[10] migration_guard: never written; a declared key that is missing makes Redis Cluster refuse the
        script (TRYAGAIN) while its slot migrates, so the keys derived here are never read half-moved
        (docs/cluster.md, 'Slot migration'): trimming derives the keys of the jobs it drops
ARGV[1] base  ARGV[2] id  ARGV[3] reason (the failed job's error)
ARGV[4] requeue: '1' = a running job goes back to available (the attempt not counted) and a job
        that is not running is left where it is; '0' = the job fails, whatever attempts are left
ARGV[5] channel: the queue's cancel channel (under the queue's tag)
ARGV[6] keep failed: max count (-1 = no limit)  ARGV[7] max age (ms, -1)
Reply: {'OK', state, was_running} — the job's state afterwards and 1 when a claim was ended;
       {'JOB_STATE', state} for a finished or failed job; {'JOB_NOT_FOUND'} for no such job.
Events: 'cancel-running' (id, reason, state), and 'failed' (id, error) when the job failed; a
        running job's cancel is published on the channel as JSON {id, token, reason}.
]]
--@include lib/queue.lua
--@include lib/publish.lua

local job = KEYS[1]
local k = { available = KEYS[2], claimed = KEYS[3], delayed = KEYS[4], stalled = KEYS[5], failed = KEYS[6],
  wake = KEYS[7], seq = KEYS[8], events = KEYS[9] }
local base, id, reason, requeue, channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '1', ARGV[5]

local f = redis.call('HMGET', job, 'state', 'token', 'priority')
local state, token, priority = f[1], f[2], f[3]
if not state then return { 'JOB_NOT_FOUND' } end
if state == 'finished' or state == 'failed' then return { 'JOB_STATE', state } end

local running = state == 'claimed'
local sets = { available = k.available, delayed = k.delayed, stalled = k.stalled }
if running then
  end_claim(k.claimed, job, id)
  -- the settle of the claim's renewal tells its worker why it lost the job (the token names the claim)
  redis.call('HSET', job, 'cancelledToken', token, 'cancelReason', reason)
elseif requeue then
  emit(k, 'type', 'cancel-running', 'id', id, 'reason', reason, 'state', state)
  return { 'OK', state, 0 }
else
  redis.call('ZREM', sets[state], id)
end

local after
if running and requeue then
  -- handed back as if never claimed: the attempt not counted, at its place in its priority
  redis.call('HINCRBY', job, 'attempt', -1)
  make_available(k, job, id, priority)
  after = 'available'
else
  redis.call('HSET', job, 'state', 'failed', 'failedAt', now_ms(), 'error', reason)
  redis.call('ZADD', k.failed, now_ms(), id)
  after = 'failed'
end
emit(k, 'type', 'cancel-running', 'id', id, 'reason', reason, 'state', after)
if after == 'failed' then
  emit(k, 'type', 'failed', 'id', id, 'error', reason)
  trim_done(k, base, k.failed, tonumber(ARGV[6]), tonumber(ARGV[7]), 200)
end
if running then publish(channel, cjson.encode({ id = id, token = tonumber(token), reason = reason })) end
return { 'OK', after, running and 1 or 0 }
