--[[ redlock/release — give up the caller's share of a Redlock mutex on one node.
KEYS[1] owner   string: the owner id (see redlock/acquire)
ARGV[1] owner   the caller's owner id
Reply: {'OK', state}
  state 'RELEASED': it was the caller's and is free now; 'LOST': it was not the caller's (nothing changed)
]]

if redis.call('GET', KEYS[1]) ~= ARGV[1] then return { 'OK', 'LOST' } end
redis.call('DEL', KEYS[1])
return { 'OK', 'RELEASED' }
