-- Lock state shared by the lock scripts, in two layouts behind one interface (`store`):
--
-- single: a standalone mutex. KEYS owners = string key holding the owner id with a PX expiry
--         (Redis itself ends the lease), fence = string counter. The cheapest layout: an
--         uncontended acquire is LLEN, SET NX PX, INCR; a release GET, DEL, LPOP.
-- group:  a lock group (redis-paired-worker's `hlock`). owners = hash field → owner id,
--         expiries = sorted set field → deadline (server ms), fence = hash field → counter.
--         Expired fields are swept a few at a time, found through the sorted set.
--
-- Callers pass `k`, a table of the keys: owners, expiries, fence, waiters. Needs lib/clock.lua
-- and lib/group.lua.
--@include lib/publish.lua

local single = {}
function single.holder(k, field) return redis.call('GET', k.owners) end
function single.deadline(k, field) return now_ms() + math.max(redis.call('PTTL', k.owners), 0) end
function single.token(k, field) return tonumber(redis.call('GET', k.fence)) end
function single.grant(k, field, owner, ttl)
  redis.call('SET', k.owners, owner, 'PX', ttl)
  return redis.call('INCR', k.fence)
end
-- grant only if the lock is free; false otherwise
function single.grant_if_free(k, field, owner, ttl)
  if not redis.call('SET', k.owners, owner, 'NX', 'PX', ttl) then return false end
  return redis.call('INCR', k.fence)
end
function single.free(k, field) redis.call('DEL', k.owners) end
function single.extend(k, field, ms) redis.call('PEXPIRE', k.owners, ms) end
function single.sweep(k) end

local group = {}
function group.holder(k, field)
  local deadline = redis.call('ZSCORE', k.expiries, field)
  if not deadline or tonumber(deadline) <= now_ms() then return false end
  return redis.call('HGET', k.owners, field)
end
function group.deadline(k, field) return tonumber(redis.call('ZSCORE', k.expiries, field)) or now_ms() end
function group.token(k, field) return tonumber(redis.call('HGET', k.fence, field)) end
function group.grant(k, field, owner, ttl)
  redis.call('HSET', k.owners, field, owner)
  redis.call('ZADD', k.expiries, now_ms() + ttl, field)
  keep_until_last_deadline(k.owners, k.expiries)
  return redis.call('HINCRBY', k.fence, field, 1)
end
function group.grant_if_free(k, field, owner, ttl)
  if group.holder(k, field) then return false end
  return group.grant(k, field, owner, ttl)
end
function group.free(k, field)
  redis.call('HDEL', k.owners, field)
  redis.call('ZREM', k.expiries, field)
end
function group.extend(k, field, ms)
  redis.call('ZADD', k.expiries, now_ms() + ms, field)
  keep_until_last_deadline(k.owners, k.expiries)
end
function group.sweep(k) sweep_expired(k.owners, k.expiries) end

local function store_for(layout)
  if layout == 'group' then return group end
  return single
end

-- Tell the waiter now first in line that it is, with the holder's deadline: only the first
-- re-checks at holder deadlines (a holder that died is replaced then), so a line of thousands
-- costs one script per deadline, not one per waiter. The notice is a grant message with token 0.
-- A first waiter whose instance nobody listens on is gone: dropped, and the next one is told.
local function notify_head(k, channel_prefix, deadline)
  while true do
    local entry = redis.call('LINDEX', k.waiters, 0)
    if not entry then return end
    local instance, owner = string.match(entry, '^(%S+) (%S+) %d+$')
    if instance and publish(channel_prefix .. instance, owner .. ' 0 ' .. deadline) > 0 then return end
    redis.call('LPOP', k.waiters)
  end
end

-- Hand a free lock to the oldest live waiter (FIFO: this is the fairness policy). A waiter of
-- `local_instance` (the caller's Tusker instance) gets the grant in the caller's reply; any other
-- gets it on its instance channel. PUBLISH counts the receivers, so an instance nobody listens on
-- is gone (crashed, disconnected): its entry is dropped and the next waiter is tried.
-- Returns owner, token, deadline, is_local — or false when no live waiter is left.
local function hand_off(store, k, field, channel_prefix, local_instance)
  while true do
    local entry = redis.call('LPOP', k.waiters)
    if not entry then return false end
    local instance, owner, ttl = string.match(entry, '^(%S+) (%S+) (%d+)$')
    if instance then
      local token = store.grant(k, field, owner, tonumber(ttl))
      local deadline = now_ms() + tonumber(ttl)
      if instance == local_instance then
        notify_head(k, channel_prefix, deadline)
        return owner, token, deadline, true
      end
      local message = owner .. ' ' .. token .. ' ' .. deadline
      if publish(channel_prefix .. instance, message) > 0 then
        notify_head(k, channel_prefix, deadline)
        return owner, token, deadline, false
      end
      store.free(k, field)
    end
  end
end

-- The reply tail every hand-off reports: the waiter of the caller's instance that now holds the
-- lock, its token and deadline — or '', 0, 0 when no grant has to be delivered by the caller.
local function local_grant(owner, token, deadline, is_local)
  if owner and is_local then return owner, token, deadline end
  return '', 0, 0
end
