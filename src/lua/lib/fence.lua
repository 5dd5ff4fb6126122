-- Fencing tokens of the leases kept in hashes: job claims, task processing, task parts. One
-- counter per queue / task group (its `fence` key, never expiring, never deleted), so tokens
-- strictly increase across every claim or lock of the queue or group — re-claims after a lease
-- ran out included, and also after jobs or tasks were deleted or trimmed: a resource that
-- remembers the highest token it accepted can reject every stale holder.

-- Reserve `n` tokens with one call; returns the one before the first (lease i gets first + i).
local function take_tokens(fence, n)
  return redis.call('INCRBY', fence, n) - n
end

-- The token of one new lease.
local function next_token(fence)
  return redis.call('INCR', fence)
end

-- Whether the lease recorded as (`held_owner`, `held_token`) is the one the caller names. Both
-- must match: the owner id says whose claim it is, the token which lease of it, so a holder
-- whose lease ran out and was given again can never renew or settle the new one. Every argument
-- is a string as Redis returns it (or false when the field is missing, which matches nothing).
local function holds_lease(held_owner, held_token, owner, token)
  return held_owner == owner and held_token == token
end
