-- Server time in whole milliseconds. Leases and deadlines use the Redis clock, never a client's,
-- so client clock skew cannot decide who owns what.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
