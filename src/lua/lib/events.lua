-- The events stream of a queue or task group (`k.events`), capped near its latest entries: a
-- reader that falls further behind than that misses events, it never blocks a writer.
local EVENTS_MAXLEN = 10000

-- Append one event: field/value pairs, 'type' first by convention.
local function emit(k, ...)
  redis.call('XADD', k.events, 'MAXLEN', '~', EVENTS_MAXLEN, '*', ...)
end
