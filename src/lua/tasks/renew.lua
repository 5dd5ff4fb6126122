--[[ tasks/renew — extend a processing lease to now + ms.
KEYS[1] task  KEYS[2] processing
ARGV[1] name  ARGV[2] owner  ARGV[3] ms  ARGV[4] the claim's fencing token
Reply: {'OK', deadline, now}, or {'TASK_LOST'} when this claim (owner and token) no longer
       processes the task.
Events: none.
]]
--@include lib/clock.lua
--@include lib/tasks.lua
--@include lib/fence.lua

local t = { task = KEYS[1] }
local k = { processing = KEYS[2] }
local name, owner, ms, token = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]

local f = redis.call('HMGET', t.task, 'state', 'owner', 'token')
if f[1] ~= 'processing' or not holds_lease(f[2], f[3], owner, token) then return { 'TASK_LOST' } end
local deadline = now_ms() + ms
redis.call('HSET', t.task, 'deadline', deadline)
redis.call('ZADD', k.processing, deadline, name)
return { 'OK', deadline, now_ms() }
