--[[ queue/move — administrative moves of one job: retry a stalled job, retry a failed one, retract.
KEYS[1] job  KEYS[2] available  KEYS[3] claimed  KEYS[4] delayed  KEYS[5] stalled  KEYS[6] finished
KEYS[7] failed  KEYS[8] wake  KEYS[9] seq  KEYS[10] events
ARGV[1] id  ARGV[2] verb: 'retry' (stalled → available), 'retry-failed' (failed → available,
        attempts renewed) or 'retract' (removed, whatever its state)
Reply: {'OK', state} — the job's state afterwards ('' after a retract, or when there was no such
       job), or {'JOB_STATE', state} when a retry finds the job in another state.
Events: 'retry-stalled' / 'retry-failed' / 'retract'.
]]
--@include lib/queue.lua

local job = KEYS[1]
local k = { available = KEYS[2], claimed = KEYS[3], delayed = KEYS[4], stalled = KEYS[5], finished = KEYS[6],
  failed = KEYS[7], wake = KEYS[8], seq = KEYS[9], events = KEYS[10] }
local id, verb = ARGV[1], ARGV[2]

local f = redis.call('HMGET', job, 'state', 'priority')
local state = f[1]
if verb == 'retract' then
  if not state then return { 'OK', '' } end
  leave_all_states(k, id)
  redis.call('DEL', job)
  emit(k, 'type', 'retract', 'id', id)
  return { 'OK', '' }
end
local from = verb == 'retry' and 'stalled' or 'failed'
if state ~= from then return { 'JOB_STATE', state or '' } end
redis.call('ZREM', from == 'stalled' and k.stalled or k.failed, id)
if from == 'failed' then redis.call('HSET', job, 'attempt', 0) end
make_available(k, job, id, f[2])
emit(k, 'type', verb == 'retry' and 'retry-stalled' or 'retry-failed', 'id', id)
return { 'OK', 'available' }
