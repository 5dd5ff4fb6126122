--[[ queue/reap — recover claims whose lease ran out (their worker died or hung): the job is
available again at once (the claim counted as an attempt), unless its leases ran out more than
max_stalls times — then its attempt fails ('lease expired': retried after its backoff while
attempts are left, else the job is failed), so a job that kills its workers cannot loop for ever.
Then make due delayed jobs available.
Found through sorted sets of deadlines; derives job keys under the queue's own tag (KEYS[8] guards them).
KEYS[1] available  KEYS[2] claimed  KEYS[3] delayed  KEYS[4] failed  KEYS[5] wake  KEYS[6] seq
KEYS[7] events
KEYS[8] migration_guard: never written; a declared key that is missing makes Redis Cluster refuse the
        script (TRYAGAIN) while its slot migrates, so the keys derived here are never read half-moved
        (docs/cluster.md, 'Slot migration')
ARGV[1] base  ARGV[2] limit  ARGV[3] jitter in [0, 1)  ARGV[4] max_stalls
Reply: {'OK', recovered, promoted, next_deadline, now} — next_deadline: the earliest lease or
       due time left (server ms), or -1.
Events: 'stalled-recovered', or 'failed' ('lease expired') past max_stalls.
]]
--@include lib/queue.lua

local k = { available = KEYS[1], claimed = KEYS[2], delayed = KEYS[3], failed = KEYS[4], wake = KEYS[5], seq = KEYS[6], events = KEYS[7] }
local base, limit, jitter, max_stalls = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])

local recovered, promoted = 0, 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', k.claimed, '-inf', now_ms(), 'LIMIT', 0, limit)) do
  local job = base .. ':job:' .. id
  if redis.call('HGET', job, 'state') == 'claimed' then
    if redis.call('HINCRBY', job, 'stalls', 1) > max_stalls then
      fail_job(k, job, id, 'lease expired', jitter)
    else
      end_claim(k.claimed, job, id)
      make_available(k, job, id, redis.call('HGET', job, 'priority'))
      emit(k, 'type', 'stalled-recovered', 'id', id)
    end
    recovered = recovered + 1
  else
    redis.call('ZREM', k.claimed, id)
  end
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', k.delayed, '-inf', now_ms(), 'LIMIT', 0, limit)) do
  local job = base .. ':job:' .. id
  redis.call('ZREM', k.delayed, id)
  if redis.call('HGET', job, 'state') == 'delayed' then
    make_available(k, job, id, redis.call('HGET', job, 'priority'))
    promoted = promoted + 1
  end
end
return { 'OK', recovered, promoted, earliest_deadline({ k.claimed, k.delayed }), now_ms() }
