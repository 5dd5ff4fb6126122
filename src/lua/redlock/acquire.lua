--[[ redlock/acquire — phase 1 of a Redlock acquire on one node: take the node's share if free.
KEYS[1] owner   string: the owner id, with a PX expiry (Redis itself ends the node's share)
KEYS[2] fence   string: the highest fencing token this node recorded (never expires)
ARGV[1] owner   the caller's owner id (unique per acquire)
ARGV[2] ttl     lease length in ms
Reply: {'OK', state, counter, now}
  state 'GRANTED': the caller owns this node's share for ttl ms
  state 'BUSY':    another owner holds it
  counter: the node's fence counter, read in the same script (0 when none): the caller's token
           is the max of these over a majority, plus one (written back by redlock/fence)
]]
--@include lib/clock.lua

local granted = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
local counter = tonumber(redis.call('GET', KEYS[2]) or '0')
return { 'OK', granted and 'GRANTED' or 'BUSY', counter, now_ms() }
