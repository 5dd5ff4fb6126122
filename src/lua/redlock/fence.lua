--[[ redlock/fence — phase 2 of a Redlock acquire on one node: record the caller's token.
KEYS[1] owner   string: the owner id (see redlock/acquire)
KEYS[2] fence   string: the highest fencing token this node recorded
ARGV[1] owner   the caller's owner id
ARGV[2] token   the fencing token chosen from a majority's counters
Reply: {'OK', state, counter}
  state 'FENCED': the caller still owns the node's share and the counter is now token
  state 'LOST':   the caller no longer owns it (expired, taken): nothing changed
  state 'STALE':  the counter is already >= token: nothing changed; counter is the node's
]]

if redis.call('GET', KEYS[1]) ~= ARGV[1] then return { 'OK', 'LOST', 0 } end
local counter = tonumber(redis.call('GET', KEYS[2]) or '0')
local token = tonumber(ARGV[2])
if counter >= token then return { 'OK', 'STALE', counter } end
redis.call('SET', KEYS[2], ARGV[2])
return { 'OK', 'FENCED', token }
