--[[ redlock/extend — renew the caller's share of a Redlock mutex on one node.
KEYS[1] owner   string: the owner id (see redlock/acquire)
ARGV[1] owner   the caller's owner id
ARGV[2] ms      the new lease length from now, in ms
Reply: {'OK', state}
  state 'EXTENDED': renewed; 'LOST': the caller no longer owns it (nothing changed)
]]

if redis.call('GET', KEYS[1]) ~= ARGV[1] then return { 'OK', 'LOST' } end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return { 'OK', 'EXTENDED' }
