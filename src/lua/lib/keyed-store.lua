-- A keyed store: one value per name, with a lease-like expiry and a counter of its own, in one of
-- two layouts behind one interface. Lock state (lib/lock.lua) and attempt state (lib/attempt.lua)
-- are both kept in one.
--
-- single: the name has keys of its own. The value is a string key whose PX expiry ends it (Redis
--         itself drops it), the counter a string key.
-- group:  names are fields of shared keys (redis-paired-worker's `hlock`). The value is a hash
--         field, with a sorted set of when each field is dropped (Redis 7.0 has no per-field
--         expiry), swept a few at a time; the counter is a field of a counter hash.
--
-- Every function takes the value's key, the expiries key (group only) and the field (group only).
--@include lib/clock.lua

-- The hash and its sorted set of deadlines live exactly as long as their latest field.
local function keep_until_last_deadline(hash, deadlines)
  local last = redis.call('ZRANGE', deadlines, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIREAT', hash, last[2])
    redis.call('PEXPIREAT', deadlines, last[2])
  end
end

local single_store = {}
function single_store.get(key, expiries, field) return redis.call('GET', key) end
-- a value whose expiry passed reads as missing (false)
function single_store.live(key, expiries, field) return redis.call('GET', key) end
function single_store.set(key, expiries, field, value, ms) redis.call('SET', key, value, 'PX', ms) end
function single_store.set_if_absent(key, expiries, field, value, ms)
  return redis.call('SET', key, value, 'NX', 'PX', ms) and true or false
end
function single_store.expire(key, expiries, field, ms) redis.call('PEXPIRE', key, ms) end
-- when the value expires (server ms)
function single_store.deadline(key, expiries, field) return now_ms() + math.max(redis.call('PTTL', key), 0) end
function single_store.delete(key, expiries, field) redis.call('DEL', key) end
function single_store.increment(counter, field) return redis.call('INCR', counter) end
function single_store.counter(counter, field) return tonumber(redis.call('GET', counter)) end
function single_store.sweep(key, expiries) end

local group_store = {}
function group_store.get(key, expiries, field) return redis.call('HGET', key, field) end
function group_store.live(key, expiries, field)
  local deadline = redis.call('ZSCORE', expiries, field)
  if not deadline or tonumber(deadline) <= now_ms() then return false end
  return redis.call('HGET', key, field)
end
function group_store.set(key, expiries, field, value, ms)
  redis.call('HSET', key, field, value)
  group_store.expire(key, expiries, field, ms)
end
function group_store.set_if_absent(key, expiries, field, value, ms)
  if group_store.live(key, expiries, field) then return false end
  group_store.set(key, expiries, field, value, ms)
  return true
end
function group_store.expire(key, expiries, field, ms)
  redis.call('ZADD', expiries, now_ms() + ms, field)
  keep_until_last_deadline(key, expiries)
end
function group_store.deadline(key, expiries, field) return tonumber(redis.call('ZSCORE', expiries, field)) or now_ms() end
function group_store.delete(key, expiries, field)
  redis.call('HDEL', key, field)
  redis.call('ZREM', expiries, field)
end
function group_store.increment(counter, field) return redis.call('HINCRBY', counter, field, 1) end
function group_store.counter(counter, field) return tonumber(redis.call('HGET', counter, field)) end
-- Drop up to 16 fields whose deadline has passed, oldest first, so the hash keeps no dead fields.
function group_store.sweep(key, expiries)
  local dead = redis.call('ZRANGEBYSCORE', expiries, '-inf', now_ms(), 'LIMIT', 0, 16)
  for _, field in ipairs(dead) do
    redis.call('HDEL', key, field)
    redis.call('ZREM', expiries, field)
  end
end

local function keyed_store(layout)
  if layout == 'group' then return group_store end
  return single_store
end
