--[[ tasks/retry-failed — put a failed task back in the released queue with its attempts renewed.
KEYS[1] task  KEYS[2] failed  KEYS[3] released  KEYS[4] wake  KEYS[5] events
ARGV[1] name
Reply: {'OK', 'released'}, or {'TASK_NOT_FAILED', state} (nothing changes).
Events: 'released'.
]]
--@include lib/tasks.lua

local t = { task = KEYS[1] }
local k = { failed = KEYS[2], released = KEYS[3], wake = KEYS[4], events = KEYS[5] }
local name = ARGV[1]

local f = redis.call('HMGET', t.task, 'state', 'attempts')
if f[1] ~= 'failed' then return { 'TASK_NOT_FAILED', f[1] or '' } end
redis.call('HSET', t.task, 'state', 'released', 'attemptsLeft', f[2], 'releasedAt', now_ms())
redis.call('HDEL', t.task, 'failedAt')
redis.call('ZREM', k.failed, name)
redis.call('RPUSH', k.released, name)
redis.call('RPUSH', k.wake, '1')
emit(k, 'type', 'released', 'task', name)
return { 'OK', 'released' }
