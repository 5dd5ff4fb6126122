--[[ tasks/renew — extend a processing lease to now + ms.
KEYS[1] task  KEYS[2] processing
ARGV[1] name  ARGV[2] owner  ARGV[3] ms  ARGV[4] the claim's fencing token
Reply: {'OK', deadline, now}, or {'TASK_LOST'} when this claim (owner and token) no longer
       processes the task.
Events: none.
]]
--@include lib/tasks.lua

local t = { task = KEYS[1] }
local k = { processing = KEYS[2] }
local name, owner, ms, token = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]

if not held_claim(t.task, 'processing', owner, token) then return { 'TASK_LOST' } end
return { 'OK', renew_claim(k.processing, t.task, name, ms), now_ms() }
