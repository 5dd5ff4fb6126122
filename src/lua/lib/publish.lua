-- Publishing from scripts. Needs nothing.

-- Publish `message` on `channel`; returns how many subscribers received it. Sharded pub/sub
-- (SPUBLISH) wherever the server has it: on Redis Cluster it is delivered by the node serving
-- the channel's slot (channels carry their lock's or task's hash tag), so the count is about the
-- subscribers that really get it — plain PUBLISH there counts only the node's own subscribers.
-- On Redis 6 (no SPUBLISH) it falls back to PUBLISH. The subscriber chooses the same way
-- (SSUBSCRIBE where COMMAND INFO knows spublish), so both ends always agree on one server.
local function publish(channel, message)
  local sent = redis.pcall('SPUBLISH', channel, message)
  if type(sent) == 'number' then return sent end
  if string.find(tostring(sent.err), 'nknown', 1, true) then return redis.call('PUBLISH', channel, message) end
  -- any other failure is raised as Redis reports it
  return redis.call('SPUBLISH', channel, message)
end
