--[[ lock/cancel — a queued waiter gives up (timeout, abort, close).
If the lock was handed to it meanwhile, the lease is released and handed on, so a waiter that
left never keeps a lock.
KEYS[1] owners  KEYS[2] expiries  KEYS[3] fence  KEYS[4] waiters (see lock/acquire)
ARGV[1] layout           'single' or 'group'
ARGV[2] field
ARGV[3] owner            the waiter's owner id
ARGV[4] instance         the caller's Tusker instance id
ARGV[5] channel_prefix   grant channels are channel_prefix .. instance
ARGV[6] entry            the waiter's queue entry
Reply: {'OK', now, local_owner, local_token, local_deadline} (local_*: see lock/acquire).
Events: PUBLISH to the next waiter's grant channel when a granted lease is handed on; when the
        caller was first in line, a notice to the waiter first now ('<owner> 0 <holder deadline>').
]]
--@include lib/lock.lua

local k = { owners = KEYS[1], expiries = KEYS[2], fence = KEYS[3], waiters = KEYS[4] }
local s = keyed_store(ARGV[1])
local field = ARGV[2]
local owner = ARGV[3]
local instance = ARGV[4]
local channel_prefix = ARGV[5]
local entry = ARGV[6]

local was_first = redis.call('LINDEX', k.waiters, 0) == entry
redis.call('LREM', k.waiters, 1, entry)
local lo, lt, ld = '', 0, 0
if lock.holder(s, k, field) == owner then
  lock.free(s, k, field)
  lo, lt, ld = local_grant(hand_off(s, k, field, channel_prefix, instance))
elseif was_first then
  notify_head(k, channel_prefix, lock.deadline(s, k, field))
end
return { 'OK', now_ms(), lo, lt, ld }
