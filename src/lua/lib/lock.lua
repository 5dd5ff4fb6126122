-- Lock state shared by the lock scripts. A lock is one field of a hash tag's `owners` hash (the
-- owner id of its lease) with its deadline in the `expiries` sorted set and its last fencing token
-- in `fence`. A standalone mutex is a tag with a single field; a lock group is a tag with many.
-- Callers pass `k`, a table of the keys: owners, expiries, fence, waiters.

-- Drop up to `limit` expired locks of this tag, oldest first, so group hashes keep no dead fields.
local function sweep_expired(k, now, limit)
  local dead = redis.call('ZRANGEBYSCORE', k.expiries, '-inf', now, 'LIMIT', 0, limit)
  for _, field in ipairs(dead) do
    redis.call('HDEL', k.owners, field)
    redis.call('ZREM', k.expiries, field)
  end
end

-- The owner id and deadline of a live lease on `field`, or false, 0 when the lock is free.
local function current_owner(k, field, now)
  local deadline = redis.call('ZSCORE', k.expiries, field)
  if not deadline or tonumber(deadline) <= now then return false, 0 end
  return redis.call('HGET', k.owners, field), tonumber(deadline)
end

-- The hash and sorted set live exactly as long as their latest lease, so idle tags cost nothing.
local function keep_until_last_deadline(k)
  local last = redis.call('ZRANGE', k.expiries, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIREAT', k.owners, last[2])
    redis.call('PEXPIREAT', k.expiries, last[2])
  end
end

-- Give `field` to `owner` for `ttl` ms with the next fencing token. Returns token, deadline.
local function grant(k, field, owner, ttl, now)
  local token = redis.call('HINCRBY', k.fence, field, 1)
  redis.call('HSET', k.owners, field, owner)
  redis.call('ZADD', k.expiries, now + ttl, field)
  keep_until_last_deadline(k)
  return token, now + ttl
end

local function free(k, field)
  redis.call('HDEL', k.owners, field)
  redis.call('ZREM', k.expiries, field)
end

-- Hand a free lock to the oldest live waiter (FIFO: this is the fairness policy). A waiter of
-- `local_instance` (the caller's Tusker instance) gets the grant in the caller's reply; any other
-- gets it on its instance channel. PUBLISH counts the receivers, so an instance nobody listens on
-- is gone (crashed, disconnected): its entry is dropped and the next waiter is tried.
-- Returns owner, token, deadline, is_local — or false when no live waiter is left.
local function hand_off(k, field, now, channel_prefix, local_instance)
  while true do
    local entry = redis.call('LPOP', k.waiters)
    if not entry then return false end
    local instance, owner, ttl = string.match(entry, '^(%S+) (%S+) (%d+)$')
    if instance then
      local token, deadline = grant(k, field, owner, tonumber(ttl), now)
      if instance == local_instance then return owner, token, deadline, true end
      local message = owner .. ' ' .. token .. ' ' .. deadline .. ' ' .. now
      if redis.call('PUBLISH', channel_prefix .. instance, message) > 0 then
        return owner, token, deadline, false
      end
      free(k, field)
    end
  end
end

-- The reply tail every hand-off reports: the waiter of the caller's instance that now holds the
-- lock, its token and deadline — or '', 0, 0 when no grant has to be delivered by the caller.
local function local_grant(owner, token, deadline, is_local)
  if owner and is_local then return owner, token, deadline end
  return '', 0, 0
end
