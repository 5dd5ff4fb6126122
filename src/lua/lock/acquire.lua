--[[ lock/acquire — take a lock, or queue for it, or re-check a queued waiter.
KEYS[1] owners    hash: field → owner id
KEYS[2] expiries  sorted set: field → deadline (server ms)
KEYS[3] fence     hash: field → last fencing token
KEYS[4] waiters   list: FIFO of '<instance> <owner> <ttl>'
ARGV[1] field            the lock's field in owners/expiries/fence
ARGV[2] owner            the caller's owner id (unique per acquire)
ARGV[3] ttl              lease length in ms
ARGV[4] instance         the caller's Tusker instance id
ARGV[5] channel_prefix   grant channels are channel_prefix .. instance (same hash tag as the keys)
ARGV[6] mode             'try': take it if free; 'wait': take it if free, else queue;
                         'poke': a queued waiter's fallback when the holder's deadline passed —
                         hands an expired lock to the queue head and keeps the caller queued
Reply: {'OK', state, token, deadline, now, local_owner, local_token, local_deadline}
  state 'GRANTED': the caller holds the lock with token until deadline
  state 'BUSY':    held by another (mode 'try'); deadline is the holder's
  state 'QUEUED':  the caller is in the queue; deadline is the holder's
  local_*: a waiter of the caller's instance that this call handed the lock to ('' when none)
Events: PUBLISH to a waiter's grant channel when the lock is handed to it: '<owner> <token> <deadline> <now>'.
]]
--@include lib/clock.lua
--@include lib/lock.lua

local k = { owners = KEYS[1], expiries = KEYS[2], fence = KEYS[3], waiters = KEYS[4] }
local field = ARGV[1]
local owner = ARGV[2]
local ttl = tonumber(ARGV[3])
local instance = ARGV[4]
local channel_prefix = ARGV[5]
local mode = ARGV[6]

local now = now_ms()
sweep_expired(k, now, 16)

local holder, deadline = current_owner(k, field, now)
local lo, lt, ld = '', 0, 0
if holder == owner then
  -- only 'poke' gets here: the lock was handed to the caller and the grant is still on its way
  return { 'OK', 'GRANTED', tonumber(redis.call('HGET', k.fence, field)), deadline, now, lo, lt, ld }
end

if not holder then
  -- waiters already queued go first; the caller (when mode is 'poke') may be one of them
  local next_owner, token, next_deadline, is_local = hand_off(k, field, now, channel_prefix, instance)
  if next_owner == owner then
    return { 'OK', 'GRANTED', token, next_deadline, now, lo, lt, ld }
  end
  if not next_owner then
    token, deadline = grant(k, field, owner, ttl, now)
    return { 'OK', 'GRANTED', token, deadline, now, lo, lt, ld }
  end
  deadline = next_deadline
  lo, lt, ld = local_grant(next_owner, token, next_deadline, is_local)
end

if mode == 'try' then
  return { 'OK', 'BUSY', 0, deadline, now, lo, lt, ld }
end

local entry = instance .. ' ' .. owner .. ' ' .. ttl
if mode == 'wait' or not redis.call('LPOS', k.waiters, entry) then
  redis.call('RPUSH', k.waiters, entry)
end
-- queued waiters poke at the holder's deadline and so refresh this; a queue nobody pokes dies
redis.call('PEXPIRE', k.waiters, deadline - now + 60000)
return { 'OK', 'QUEUED', 0, deadline, now, lo, lt, ld }
