--[[ queue/publish — add one or more jobs; each is atomic on its own, as if published alone. A job
whose id names an unfinished job is not added, and that job does not change; a finished or failed
job with the same id is replaced by the new one.
KEYS[1] available  KEYS[2] delayed  KEYS[3] wake  KEYS[4] seq  KEYS[5] finished  KEYS[6] failed
KEYS[7] events  KEYS[8] publish_listeners (set while some process listens to 'publish')
KEYS[9..] the jobs' keys, in the order of the argument groups
ARGV: eight per job — id, data (JSON), priority, delay (ms), attempts, backoff (JSON: {delay,
      factor, max}; '' = none), timeout (ms, 0 = none), fresh (1: the id was just generated, a
      random UUID, so no job can have it and it is not looked up)
Reply: {'OK', result, result, …} — 'CREATED' or 'EXISTS' per job.
Events: 'publish' per created job, while KEYS[8] exists.
]]
--@include lib/clock.lua
--@include lib/queue.lua

local k = { available = KEYS[1], delayed = KEYS[2], wake = KEYS[3], seq = KEYS[4], finished = KEYS[5], failed = KEYS[6], events = KEYS[7] }
local publish_events = redis.call('EXISTS', KEYS[8]) == 1
local reply = { 'OK' }
-- jobs available at once: queued after the loop, with one INCRBY, one ZADD and one RPUSH
local ready_ids, ready_priorities = {}, {}

for i = 0, (#ARGV / 8) - 1 do
  local a = i * 8
  local job, id, data = KEYS[9 + i], ARGV[a + 1], ARGV[a + 2]
  local priority, delay, attempts = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  local backoff, timeout = ARGV[a + 6], tonumber(ARGV[a + 7])
  local state = ARGV[a + 8] ~= '1' and redis.call('HGET', job, 'state')
  if state and state ~= 'finished' and state ~= 'failed' then
    reply[#reply + 1] = 'EXISTS'
  else
    if state then
      redis.call('DEL', job)
      redis.call('ZREM', k.finished, id)
      redis.call('ZREM', k.failed, id)
    end
    -- only fields that differ from their defaults (priority 0, attempts 1, no backoff, no
    -- timeout; attempt and cancelCount 0): every reader defaults them
    if priority == 0 and attempts == 1 and backoff == '' and timeout == 0 and delay <= 0 then
      redis.call('HSET', job, 'state', 'available', 'data', data, 'createdAt', now_ms())
      ready_ids[#ready_ids + 1] = id
      ready_priorities[#ready_priorities + 1] = 0
    else
      local fields = { 'state', 'available', 'data', data, 'createdAt', now_ms() }
      if priority ~= 0 then fields[#fields + 1] = 'priority'; fields[#fields + 1] = priority end
      if attempts ~= 1 then fields[#fields + 1] = 'attempts'; fields[#fields + 1] = attempts end
      if backoff ~= '' then fields[#fields + 1] = 'backoff'; fields[#fields + 1] = backoff end
      if timeout > 0 then fields[#fields + 1] = 'timeout'; fields[#fields + 1] = timeout end
      if delay > 0 then
        fields[2] = 'delayed'
        fields[#fields + 1] = 'availableAt'; fields[#fields + 1] = now_ms() + delay
        redis.call('ZADD', k.delayed, now_ms() + delay, id)
      else
        ready_ids[#ready_ids + 1] = id
        ready_priorities[#ready_priorities + 1] = priority
      end
      redis.call('HSET', job, unpack(fields))
    end
    -- the stream entry is what publishing costs most: written only while someone listens
    if publish_events then queue_emit(k, 'type', 'publish', 'id', id) end
    reply[#reply + 1] = 'CREATED'
  end
end

local n = #ready_ids
if n > 0 then
  local first = redis.call('INCRBY', k.seq, n) - n
  local scored, markers = {}, {}
  for i = 1, n do
    scored[2 * i - 1] = available_score(ready_priorities[i], first + i)
    scored[2 * i] = ready_ids[i]
    markers[i] = '1'
  end
  redis.call('ZADD', k.available, unpack(scored))
  -- one wake marker per job made available
  redis.call('RPUSH', k.wake, unpack(markers))
end
return reply
