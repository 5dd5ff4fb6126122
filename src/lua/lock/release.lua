--[[ lock/release — end a held lease and hand the lock to the oldest live waiter.
KEYS[1] owners  KEYS[2] expiries  KEYS[3] fence  KEYS[4] waiters (see lock/acquire)
ARGV[1] layout           'single' or 'group'
ARGV[2] field
ARGV[3] owner            the lease's owner id
ARGV[4] instance         the caller's Tusker instance id
ARGV[5] channel_prefix   grant channels are channel_prefix .. instance
Reply: {'OK', now (0 when nothing was handed locally), local_owner, local_token, local_deadline}
       (local_*: see lock/acquire),
       or {'LOCK_LOST'} when the caller does not hold the lock (nothing changes).
Events: PUBLISH to the next waiter's grant channel: '<owner> <token> <deadline>'.
]]
--@include lib/lock.lua

local k = { owners = KEYS[1], expiries = KEYS[2], fence = KEYS[3], waiters = KEYS[4] }
local s = keyed_store(ARGV[1])
local field = ARGV[2]
local owner = ARGV[3]
local instance = ARGV[4]
local channel_prefix = ARGV[5]

if lock.holder(s, k, field) ~= owner then return { 'LOCK_LOST' } end
lock.free(s, k, field)
local lo, lt, ld = local_grant(hand_off(s, k, field, channel_prefix, instance))
-- the server time matters only to a local grant's deadline; otherwise spare the TIME call
return { 'OK', lo ~= '' and now_ms() or 0, lo, lt, ld }
