-- Lock state shared by the lock scripts, kept in a keyed store (lib/keyed-store.lua), and the
-- line of waiters. Layouts:
--
-- single: a standalone mutex. KEYS owners = string key holding the owner id with a PX expiry
--         (Redis itself ends the lease), fence = string counter. The cheapest layout: an
--         uncontended acquire is LLEN, SET NX PX, INCR; a release GET, DEL, LPOP.
-- group:  a lock group (redis-paired-worker's `hlock`). owners = hash field → owner id,
--         expiries = sorted set field → deadline (server ms), fence = hash field → counter.
--
-- Callers pass `k`, a table of the keys: owners, expiries, fence, waiters, and the keyed store of
-- their layout (`keyed_store(layout)`).
--@include lib/clock.lua
--@include lib/keyed-store.lua
--@include lib/publish.lua

local lock = {}
function lock.holder(s, k, field) return s.live(k.owners, k.expiries, field) end
function lock.deadline(s, k, field) return s.deadline(k.owners, k.expiries, field) end
function lock.token(s, k, field) return s.counter(k.fence, field) end
-- returns the new fencing token
function lock.grant(s, k, field, owner, ttl)
  s.set(k.owners, k.expiries, field, owner, ttl)
  return s.increment(k.fence, field)
end
-- grant only if the lock is free; false otherwise
function lock.grant_if_free(s, k, field, owner, ttl)
  if not s.set_if_absent(k.owners, k.expiries, field, owner, ttl) then return false end
  return s.increment(k.fence, field)
end
function lock.free(s, k, field) s.delete(k.owners, k.expiries, field) end
function lock.extend(s, k, field, ms) s.expire(k.owners, k.expiries, field, ms) end
function lock.sweep(s, k) s.sweep(k.owners, k.expiries) end

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
local function hand_off(s, k, field, channel_prefix, local_instance)
  while true do
    local entry = redis.call('LPOP', k.waiters)
    if not entry then return false end
    local instance, owner, ttl = string.match(entry, '^(%S+) (%S+) (%d+)$')
    if instance then
      local token = lock.grant(s, k, field, owner, tonumber(ttl))
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
      lock.free(s, k, field)
    end
  end
end

-- The reply tail every hand-off reports: the waiter of the caller's instance that now holds the
-- lock, its token and deadline — or '', 0, 0 when no grant has to be delivered by the caller.
local function local_grant(owner, token, deadline, is_local)
  if owner and is_local then return owner, token, deadline end
  return '', 0, 0
end
