--[[ lock/acquire — take a lock, or queue for it, or re-check a queued waiter.
KEYS[1] owners    single: string owner id (PX = lease) | group: hash field → owner id
KEYS[2] expiries  group: sorted set field → deadline (server ms) | single: unused
KEYS[3] fence     single: string counter | group: hash field → last fencing token
KEYS[4] waiters   list: FIFO of '<instance> <owner> <ttl>'
ARGV[1] layout           'single' or 'group' (see lib/lock.lua)
ARGV[2] field            the lock's field in a group (single: the lock name, unused)
ARGV[3] owner            the caller's owner id (unique per acquire)
ARGV[4] ttl              lease length in ms
ARGV[5] instance         the caller's Tusker instance id
ARGV[6] channel_prefix   grant channels are channel_prefix .. instance (same hash tag as the keys)
ARGV[7] mode             'try': take it if free; 'wait': take it if free, else queue;
                         'poke': a queued waiter's fallback when the holder's deadline passed —
                         hands an expired lock to the queue head and keeps the caller queued
Reply: {'OK', state, token, deadline, now, local_owner, local_token, local_deadline, place}
  state 'GRANTED': the caller holds the lock with token until deadline
  state 'BUSY':    held by another (mode 'try'); deadline is the holder's
  state 'QUEUED':  the caller is in the queue; deadline is the holder's
  local_*: a waiter of the caller's instance that this call handed the lock to ('' when none)
  place: QUEUED: the caller's place in line, 1 = first (only the first re-checks at the
         holder's deadline); otherwise 0
Events: PUBLISH to a waiter's grant channel when the lock is handed to it: '<owner> <token> <deadline>',
        and then to the waiter first in line after it: '<owner> 0 <holder deadline>'.
]]
--@include lib/lock.lua

local k = { owners = KEYS[1], expiries = KEYS[2], fence = KEYS[3], waiters = KEYS[4] }
local s = keyed_store(ARGV[1])
local field = ARGV[2]
local owner = ARGV[3]
local ttl = tonumber(ARGV[4])
local instance = ARGV[5]
local channel_prefix = ARGV[6]
local mode = ARGV[7]

lock.sweep(s, k)

-- the common case: nobody queued and the lock free
if redis.call('LLEN', k.waiters) == 0 then
  local token = lock.grant_if_free(s, k, field, owner, ttl)
  if token then return { 'OK', 'GRANTED', token, now_ms() + ttl, now_ms(), '', 0, 0 } end
end

local holder = lock.holder(s, k, field)
local lo, lt, ld = '', 0, 0
if holder == owner then
  -- only 'poke' gets here: the lock was handed to the caller and the grant is still on its way
  return { 'OK', 'GRANTED', lock.token(s, k, field), lock.deadline(s, k, field), now_ms(), lo, lt, ld }
end

if not holder then
  -- waiters already queued go first; the caller (when mode is 'poke') may be one of them
  local next_owner, token, deadline, is_local = hand_off(s, k, field, channel_prefix, instance)
  if next_owner == owner then
    return { 'OK', 'GRANTED', token, deadline, now_ms(), lo, lt, ld }
  end
  if not next_owner then
    return { 'OK', 'GRANTED', lock.grant(s, k, field, owner, ttl), now_ms() + ttl, now_ms(), lo, lt, ld }
  end
  lo, lt, ld = local_grant(next_owner, token, deadline, is_local)
end

local deadline = lock.deadline(s, k, field)
if mode == 'try' then
  return { 'OK', 'BUSY', 0, deadline, now_ms(), lo, lt, ld, 0 }
end

local entry = instance .. ' ' .. owner .. ' ' .. ttl
local place
if mode == 'poke' then
  local index = redis.call('LPOS', k.waiters, entry)
  if index then place = index + 1 end
end
if not place then place = redis.call('RPUSH', k.waiters, entry) end
-- queued waiters poke at the holder's deadline and so refresh this; a queue nobody pokes dies
redis.call('PEXPIRE', k.waiters, deadline - now_ms() + 60000)
return { 'OK', 'QUEUED', 0, deadline, now_ms(), lo, lt, ld, place }
