-- Fields of a hash that expire one by one, kept with a sorted set of their deadlines (Redis 7.0
-- has no per-field expiry). Used by lock groups and attempt groups. Needs lib/clock.lua.

-- The hash and the sorted set live exactly as long as their latest field.
local function keep_until_last_deadline(hash, deadlines)
  local last = redis.call('ZRANGE', deadlines, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIREAT', hash, last[2])
    redis.call('PEXPIREAT', deadlines, last[2])
  end
end

-- Drop up to 16 fields whose deadline has passed, oldest first, so the hash keeps no dead fields.
local function sweep_expired(hash, deadlines)
  local dead = redis.call('ZRANGEBYSCORE', deadlines, '-inf', now_ms(), 'LIMIT', 0, 16)
  for _, field in ipairs(dead) do
    redis.call('HDEL', hash, field)
    redis.call('ZREM', deadlines, field)
  end
end
