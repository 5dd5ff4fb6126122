--[[ lock/release — end a held lease and hand the lock to the oldest live waiter.
KEYS[1] owners    hash: field → owner id
KEYS[2] expiries  sorted set: field → deadline (server ms)
KEYS[3] fence     hash: field → last fencing token
KEYS[4] waiters   list: FIFO of '<instance> <owner> <ttl>'
ARGV[1] field
ARGV[2] owner            the lease's owner id
ARGV[3] instance         the caller's Tusker instance id
ARGV[4] channel_prefix   grant channels are channel_prefix .. instance
Reply: {'OK', now, local_owner, local_token, local_deadline} (local_*: see lock/acquire),
       or {'LOCK_LOST'} when the caller does not hold the lock (nothing changes).
Events: PUBLISH to the next waiter's grant channel: '<owner> <token> <deadline> <now>'.
]]
--@include lib/clock.lua
--@include lib/lock.lua

local k = { owners = KEYS[1], expiries = KEYS[2], fence = KEYS[3], waiters = KEYS[4] }
local field = ARGV[1]
local owner = ARGV[2]
local instance = ARGV[3]
local channel_prefix = ARGV[4]

local now = now_ms()
if current_owner(k, field, now) ~= owner then return { 'LOCK_LOST' } end
free(k, field)
local lo, lt, ld = local_grant(hand_off(k, field, now, channel_prefix, instance))
return { 'OK', now, lo, lt, ld }
