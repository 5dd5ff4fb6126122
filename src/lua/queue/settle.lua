--[[ queue/settle — the holder of a claim ends it: finish, cancel, stall, fail or extend.
KEYS[1] job  KEYS[2] claimed  KEYS[3] available  KEYS[4] delayed  KEYS[5] stalled  KEYS[6] finished
KEYS[7] failed  KEYS[8] wake  KEYS[9] seq  KEYS[10] events
ARGV[1] id  ARGV[2] owner  ARGV[3] verb: 'finish' | 'cancel' | 'stall' | 'fail' | 'extend'
ARGV[4] finish: result (JSON); fail: error text; extend: lease (ms)
ARGV[5] fail: jitter in [0, 1)
ARGV[6] base  ARGV[7] keep finished: max count (-1 = no limit)  ARGV[8] max age (ms, -1)
ARGV[9] keep failed: max count  ARGV[10] max age
Reply: {'OK', state} — the job's state afterwards (extend: {'OK', deadline, now}; fail:
       {'OK', state, due time when delayed, now}), or
       {'JOB_LOST'} when this claim no longer holds the job: nothing changes.
Events: 'finish' (with the result), 'cancel', 'stalled', 'retry' or 'failed'.
]]
--@include lib/clock.lua
--@include lib/queue.lua

local job = KEYS[1]
local k = { claimed = KEYS[2], available = KEYS[3], delayed = KEYS[4], stalled = KEYS[5], finished = KEYS[6],
  failed = KEYS[7], wake = KEYS[8], seq = KEYS[9], events = KEYS[10] }
local id, owner, verb, arg, jitter, base = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]

local f = redis.call('HMGET', job, 'state', 'owner', 'priority')
if f[1] ~= 'claimed' or f[2] ~= owner then return { 'JOB_LOST' } end

if verb == 'extend' then
  local deadline = now_ms() + tonumber(arg)
  redis.call('HSET', job, 'deadline', deadline)
  redis.call('ZADD', k.claimed, deadline, id)
  return { 'OK', deadline, now_ms() }
end

if verb == 'fail' then
  local state, due = fail_job(k, job, id, arg, jitter)
  if state == 'failed' then trim_done(k, base, k.failed, tonumber(ARGV[9]), tonumber(ARGV[10]), 200) end
  return { 'OK', state, due or 0, now_ms() }
end

redis.call('ZREM', k.claimed, id)
redis.call('HDEL', job, 'owner', 'deadline')
if verb == 'finish' then
  redis.call('HSET', job, 'state', 'finished', 'result', arg, 'finishedAt', now_ms())
  redis.call('ZADD', k.finished, now_ms(), id)
  queue_emit(k, 'type', 'finish', 'id', id, 'result', arg)
  trim_done(k, base, k.finished, tonumber(ARGV[7]), tonumber(ARGV[8]), 200)
  return { 'OK', 'finished' }
elseif verb == 'cancel' then
  -- a recoverable error: back to available, counted, without using up an attempt
  redis.call('HINCRBY', job, 'cancelCount', 1)
  redis.call('HINCRBY', job, 'attempt', -1)
  make_available(k, job, id, f[3])
  queue_emit(k, 'type', 'cancel', 'id', id)
  return { 'OK', 'available' }
elseif verb == 'stall' then
  redis.call('HSET', job, 'state', 'stalled', 'stalledAt', now_ms())
  redis.call('ZADD', k.stalled, now_ms(), id)
  queue_emit(k, 'type', 'stalled', 'id', id)
  return { 'OK', 'stalled' }
end
return { 'UNKNOWN_VERB' }
