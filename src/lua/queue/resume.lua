--[[ queue/resume — hand out jobs again after pause(), waking as many blocked claimers as there
are available jobs (markers were dropped while paused), at most 1,000.
KEYS[1] paused  KEYS[2] available  KEYS[3] wake
ARGV: none
Reply: {'OK', markers pushed}
Events: none.
]]
redis.call('DEL', KEYS[1])
local n = math.min(redis.call('ZCARD', KEYS[2]), 1000)
redis.call('DEL', KEYS[3])
if n > 0 then
  local markers = {}
  for i = 1, n do markers[i] = '1' end
  redis.call('RPUSH', KEYS[3], unpack(markers))
end
return { 'OK', n }
