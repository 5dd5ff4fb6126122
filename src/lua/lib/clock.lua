-- Server time in whole milliseconds, read once per script and only when needed (a release that
-- hands nothing on never asks). Leases and deadlines use the Redis clock, never a client's, so
-- client clock skew cannot decide who owns what.
local clock_ms
local function now_ms()
  if not clock_ms then
    local t = redis.call('TIME')
    clock_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return clock_ms
end

-- The earliest score across sorted sets of deadlines (server ms), or -1 when all are empty:
-- reapers report it so the next pass runs exactly then.
local function earliest_deadline(sets)
  local earliest = -1
  for _, key in ipairs(sets) do
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if first[2] and (earliest < 0 or tonumber(first[2]) < earliest) then earliest = tonumber(first[2]) end
  end
  return earliest
end
