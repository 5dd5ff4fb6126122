--[[ tasks/reap — time out parts and processing leases whose deadline passed, and drop open or
closed tasks idle past their retention, found through sorted sets of deadlines (never by scanning). Derives task keys under the group's own tag (see
lib/tasks.lua, task_keys).
KEYS[1] part_deadlines  KEYS[2] part_locked_at  KEYS[3] processing  KEYS[4] closed
KEYS[5] released  KEYS[6] wake  KEYS[7] failed  KEYS[8] events  KEYS[9] idle_deadlines  KEYS[10] open
KEYS[11] migration_guard: never written; a declared key that is missing makes Redis Cluster refuse the
        script (TRYAGAIN) while its slot migrates, so the keys derived here are never read half-moved
        (docs/cluster.md, 'Slot migration')
ARGV[1] base  ARGV[2] limit (entries per set and call)
ARGV[3] mode: 'deadlines' (parts past their lease, processing leases past their deadline, and
        idle tasks past their retention),
        'locks' (parts locked at or before now - ARGV[4] ms, whatever their lease), or
        'processing' (processing leases past their deadline only)
ARGV[4] ms (mode 'locks')  ARGV[5] idle retention (ms)
Reply: {'OK', parts_timed_out, processing_timed_out, next_deadline, now, idle_dropped} —
       next_deadline: the earliest deadline left in any of the three sets (server ms), or -1 when none.
Events: 'part-timeout' per dropped part, then 'released' / 'retry' / 'failed' as they follow;
        'expired' per idle task dropped.
]]
--@include lib/tasks.lua

local k = { part_deadlines = KEYS[1], part_locked_at = KEYS[2], processing = KEYS[3], closed = KEYS[4],
  released = KEYS[5], wake = KEYS[6], failed = KEYS[7], events = KEYS[8], idle_deadlines = KEYS[9], open = KEYS[10] }
local base, limit, mode, ms, retention = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])

local parts_out, processing_out = 0, 0
if mode ~= 'processing' then
  local source, cutoff = k.part_deadlines, now_ms()
  if mode == 'locks' then source, cutoff = k.part_locked_at, now_ms() - ms end
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', source, '-inf', cutoff, 'LIMIT', 0, limit)) do
    local entry = cjson.decode(member)
    local name, part = entry[1], entry[2]
    local t = task_keys(base, name)
    local locked_at = redis.call('ZSCORE', k.part_locked_at, member)
    redis.call('ZREM', k.part_deadlines, member)
    redis.call('ZREM', k.part_locked_at, member)
    if redis.call('HDEL', t.parts, part) == 1 then
      parts_out = parts_out + 1
      -- the lock's time leaves part_locked_at: the task is still kept idle retention after it
      if locked_at then redis.call('ZADD', k.idle_deadlines, 'GT', tonumber(locked_at) + retention, name) end
      emit(k, 'type', 'part-timeout', 'task', name, 'part', part)
      if redis.call('HGET', t.task, 'state') == 'closed' then try_release(k, t, name) end
    end
  end
end
if mode ~= 'locks' then
  for _, name in ipairs(redis.call('ZRANGEBYSCORE', k.processing, '-inf', now_ms(), 'LIMIT', 0, limit)) do
    local t = task_keys(base, name)
    if redis.call('HGET', t.task, 'state') == 'processing' then
      fail_attempt(k, t, name, 'processing timed out')
      processing_out = processing_out + 1
    else
      redis.call('ZREM', k.processing, name)
    end
  end
end

local idle_out = 0
if mode == 'deadlines' then
  for _, name in ipairs(redis.call('ZRANGEBYSCORE', k.idle_deadlines, '-inf', now_ms(), 'LIMIT', 0, limit)) do
    if drop_idle(k, task_keys(base, name), name, retention) then idle_out = idle_out + 1 end
  end
end

return { 'OK', parts_out, processing_out, earliest_deadline({ k.part_deadlines, k.processing, k.idle_deadlines }), now_ms(), idle_out }
