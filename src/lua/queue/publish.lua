--[[ queue/publish — add one or more jobs; each is atomic on its own, as if published alone. A job
whose id names an unfinished job is not added, and that job does not change; a finished or failed
job with the same id is replaced by the new one.
KEYS[1] available  KEYS[2] delayed  KEYS[3] wake  KEYS[4] seq  KEYS[5] finished  KEYS[6] failed
KEYS[7] events  KEYS[8] publish_listeners (set while some process listens to 'publish')
KEYS[9..] job: the jobs' keys, in the order of the argument groups
ARGV: three per job — id, data (JSON), options: '' for an id just generated (a random UUID: no
      job can have it, so it is not looked up) and every default; else JSON with only what
      differs: look (1: the id was given, look it up), p priority, d delay (ms), a attempts,
      b backoff (JSON text of {delay, factor, max}), t timeout (ms), tp the publisher's trace
      context (W3C traceparent, then tracestate after a space; kept as the job's `tp`)
Reply: {'OK', result, result, …} — 'CREATED' or 'EXISTS' per job.
Events: 'publish' per created job, while publish_listeners exists.
]]
--@include lib/queue.lua

local k = { available = KEYS[1], delayed = KEYS[2], wake = KEYS[3], seq = KEYS[4], finished = KEYS[5], failed = KEYS[6], events = KEYS[7] }
local publish_events = redis.call('EXISTS', KEYS[8]) == 1
local reply = { 'OK' }
-- jobs available at once: queued after the loop, with one INCRBY, one ZADD and one RPUSH
local ready_ids, ready_priorities = {}, {}

for i = 0, (#ARGV / 3) - 1 do
  local a = i * 3
  local job, id, data, options = KEYS[9 + i], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local o = options ~= '' and cjson.decode(options)
  local state = o and o.look and redis.call('HGET', job, 'state')
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
    local priority, delay = o and tonumber(o.p) or 0, o and tonumber(o.d) or 0
    if not o or (priority == 0 and delay <= 0 and not o.a and not o.b and not o.t and not o.tp) then
      redis.call('HSET', job, 'state', 'available', 'data', data, 'createdAt', now_ms())
      ready_ids[#ready_ids + 1] = id
      ready_priorities[#ready_priorities + 1] = priority
    else
      local fields = { 'state', 'available', 'data', data, 'createdAt', now_ms() }
      if priority ~= 0 then fields[#fields + 1] = 'priority'; fields[#fields + 1] = priority end
      if o.a then fields[#fields + 1] = 'attempts'; fields[#fields + 1] = tonumber(o.a) end
      if o.b then fields[#fields + 1] = 'backoff'; fields[#fields + 1] = o.b end
      if o.t then fields[#fields + 1] = 'timeout'; fields[#fields + 1] = tonumber(o.t) end
      if o.tp then fields[#fields + 1] = 'tp'; fields[#fields + 1] = tostring(o.tp) end
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
    if publish_events then emit(k, 'type', 'publish', 'id', id) end
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
