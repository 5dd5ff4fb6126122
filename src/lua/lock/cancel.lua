--[[ lock/cancel — a queued waiter gives up (timeout, abort, close).
If the lock was handed to it meanwhile, the lease is released and handed on, so a waiter that
left never keeps a lock.
KEYS[1] owners    hash: field → owner id
KEYS[2] expiries  sorted set: field → deadline (server ms)
KEYS[3] fence     hash: field → last fencing token
KEYS[4] waiters   list: FIFO of '<instance> <owner> <ttl>'
ARGV[1] field
ARGV[2] owner            the waiter's owner id
ARGV[3] instance         the caller's Tusker instance id
ARGV[4] channel_prefix   grant channels are channel_prefix .. instance
ARGV[5] entry            the waiter's queue entry
Reply: {'OK', now, local_owner, local_token, local_deadline} (local_*: see lock/acquire).
Events: PUBLISH to the next waiter's grant channel when a granted lease is handed on.
]]
--@include lib/clock.lua
--@include lib/lock.lua

local k = { owners = KEYS[1], expiries = KEYS[2], fence = KEYS[3], waiters = KEYS[4] }
local field = ARGV[1]
local owner = ARGV[2]
local instance = ARGV[3]
local channel_prefix = ARGV[4]
local entry = ARGV[5]

local now = now_ms()
redis.call('LREM', k.waiters, 1, entry)
local lo, lt, ld = '', 0, 0
if current_owner(k, field, now) == owner then
  free(k, field)
  lo, lt, ld = local_grant(hand_off(k, field, now, channel_prefix, instance))
end
return { 'OK', now, lo, lt, ld }
