--[[ queue/settle — holders of claims end or renew them: finish, cancel, stall, fail or extend. One
call settles one or more claims, each atomic on its own, as if settled alone.
KEYS[1] claimed  KEYS[2] available  KEYS[3] delayed  KEYS[4] stalled  KEYS[5] finished  KEYS[6] failed
KEYS[7] wake  KEYS[8] seq  KEYS[9] events
KEYS[10] migration_guard: never written; a declared key that is missing makes Redis Cluster refuse the
        script (TRYAGAIN) while its slot migrates, so the keys derived here are never read half-moved
        (docs/cluster.md, 'Slot migration'): trimming derives the keys of the jobs it drops
KEYS[11..] job: the jobs' keys, in the order of the argument groups
ARGV[1] base  ARGV[2] keep finished: max count (-1 = no limit)  ARGV[3] max age (ms, -1)
ARGV[4] keep failed: max count  ARGV[5] max age
ARGV[6..]: six per claim — id, owner, fencing token, verb ('finish' | 'cancel' | 'stall' | 'fail' | 'extend' |
  'return': handed back unused, as if never claimed: back where it was),
  argument (finish: result JSON; fail: error text; extend: lease ms; else ''), jitter in [0, 1) (fail)
Reply: {'OK', now, outcome, outcome, …}, one outcome per claim: {'OK', state} — the job's state
       afterwards (extend: {'OK', deadline}; fail: {'OK', state, due time when delayed}), or
       {'JOB_LOST'} when that claim no longer holds its job (another owner or token holds it, or
       none): nothing changes for it; an extend of a claim that queue/cancel-running ended replies
       {'JOB_CANCELLED', reason} instead, so a worker that missed the cancel message learns it at
       its next renewal; {'UNKNOWN_VERB'} for a verb not listed above (a wrapper bug).
Events: 'finish' (with the result), 'cancel', 'stalled', 'retry' or 'failed' ('return': none).
]]
--@include lib/queue.lua

local k = { claimed = KEYS[1], available = KEYS[2], delayed = KEYS[3], stalled = KEYS[4], finished = KEYS[5],
  failed = KEYS[6], wake = KEYS[7], seq = KEYS[8], events = KEYS[9] }
local base = ARGV[1]
local reply = { 'OK', now_ms() }
-- claims ended by finish: their ZREM and ZADD go out once, after the loop
local done, finished_at = {}, {}
local any_failed = false

for i = 0, (#ARGV - 5) / 6 - 1 do
  local a = 5 + i * 6
  local job, id, owner, token, verb, arg = KEYS[11 + i], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  local f = held_claim(job, 'claimed', owner, token, 'priority', 'score')
  if not f then
    local c = verb == 'extend' and redis.call('HMGET', job, 'cancelledToken', 'cancelReason')
    if c and c[1] == token then reply[#reply + 1] = { 'JOB_CANCELLED', c[2] or '' }
    else reply[#reply + 1] = { 'JOB_LOST' } end
  elseif verb == 'extend' then
    reply[#reply + 1] = { 'OK', renew_claim(k.claimed, job, id, tonumber(arg)) }
  elseif verb == 'fail' then
    local state, due = fail_job(k, job, id, arg, tonumber(ARGV[a + 6]))
    if state == 'failed' then any_failed = true end
    reply[#reply + 1] = { 'OK', state, due or 0 }
  elseif verb == 'finish' then
    -- owner, token and deadline stay (a finished job's owner matches no claim): one call less per job
    redis.call('HSET', job, 'state', 'finished', 'result', arg, 'finishedAt', now_ms())
    done[#done + 1] = id
    finished_at[#finished_at + 1] = now_ms()
    finished_at[#finished_at + 1] = id
    emit(k, 'type', 'finish', 'id', id, 'result', arg)
    reply[#reply + 1] = { 'OK', 'finished' }
  elseif verb == 'cancel' then
    -- a recoverable error: back to available, counted, without using up an attempt
    end_claim(k.claimed, job, id)
    redis.call('HINCRBY', job, 'cancelCount', 1)
    redis.call('HINCRBY', job, 'attempt', -1)
    make_available(k, job, id, f[4])
    emit(k, 'type', 'cancel', 'id', id)
    reply[#reply + 1] = { 'OK', 'available' }
  elseif verb == 'return' then
    -- handed back unused (a claim nobody waits for any more, a stopping processor): where it was
    -- (its score when claimed), the attempt not used, nothing counted
    end_claim(k.claimed, job, id)
    redis.call('HINCRBY', job, 'attempt', -1)
    redis.call('HSET', job, 'state', 'available')
    redis.call('ZADD', k.available, f[5] or available_score(f[4], 0), id)
    redis.call('RPUSH', k.wake, '1')
    reply[#reply + 1] = { 'OK', 'available' }
  elseif verb == 'stall' then
    end_claim(k.claimed, job, id)
    redis.call('HSET', job, 'state', 'stalled', 'stalledAt', now_ms())
    redis.call('ZADD', k.stalled, now_ms(), id)
    emit(k, 'type', 'stalled', 'id', id)
    reply[#reply + 1] = { 'OK', 'stalled' }
  else
    reply[#reply + 1] = { 'UNKNOWN_VERB' }
  end
end

if #done > 0 then
  redis.call('ZREM', k.claimed, unpack(done))
  redis.call('ZADD', k.finished, unpack(finished_at))
  trim_done(k, base, k.finished, tonumber(ARGV[2]), tonumber(ARGV[3]), 200)
end
if any_failed then trim_done(k, base, k.failed, tonumber(ARGV[4]), tonumber(ARGV[5]), 200) end
return reply
