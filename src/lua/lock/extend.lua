--[[ lock/extend — move a held lease's deadline to now + ms.
KEYS[1] owners    hash: field → owner id
KEYS[2] expiries  sorted set: field → deadline (server ms)
ARGV[1] field
ARGV[2] owner     the lease's owner id
ARGV[3] ms        new lease length from now
Reply: {'OK', deadline, now}, or {'LOCK_LOST'} when the caller does not hold the lock (nothing changes).
Events: none.
]]
--@include lib/clock.lua
--@include lib/lock.lua

local k = { owners = KEYS[1], expiries = KEYS[2] }
local field = ARGV[1]
local owner = ARGV[2]
local ms = tonumber(ARGV[3])

local now = now_ms()
if current_owner(k, field, now) ~= owner then return { 'LOCK_LOST' } end
redis.call('ZADD', k.expiries, now + ms, field)
keep_until_last_deadline(k)
return { 'OK', now + ms, now }
