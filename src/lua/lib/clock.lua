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
