--[[ lock/extend — move a held lease's deadline to now + ms.
KEYS[1] owners    see lock/acquire
KEYS[2] expiries  see lock/acquire
ARGV[1] layout    'single' or 'group'
ARGV[2] field
ARGV[3] owner     the lease's owner id
ARGV[4] ms        new lease length from now
Reply: {'OK', deadline, now}, or {'LOCK_LOST'} when the caller does not hold the lock (nothing changes).
Events: none.
]]
--@include lib/lock.lua

local k = { owners = KEYS[1], expiries = KEYS[2] }
local s = keyed_store(ARGV[1])
local field = ARGV[2]
local owner = ARGV[3]
local ms = tonumber(ARGV[4])

if lock.holder(s, k, field) ~= owner then return { 'LOCK_LOST' } end
lock.extend(s, k, field, ms)
return { 'OK', now_ms() + ms, now_ms() }
