--[[ tasks/finish — the handler of a claim completed the task, or its attempt failed, or the claim
is handed back unused (its processor stopped): released again at the head of the line, the
attempt not counted.
KEYS[1] task  KEYS[2] parts  KEYS[3] unlocked  KEYS[4] processing  KEYS[5] released  KEYS[6] wake
KEYS[7] failed  KEYS[8] stats  KEYS[9] events  KEYS[10] expected
ARGV[1] name  ARGV[2] owner  ARGV[3] outcome 'completed' | 'failed' | 'returned'  ARGV[4] error text
ARGV[5] retention (ms) of a completed task's record  ARGV[6] the claim's fencing token
Reply: {'OK', state} — 'completed', 'released' (another attempt follows, or handed back) or 'failed';
       {'TASK_LOST'} when this claim (owner and token) no longer processes the task (its lease
       ran out and it was retried or failed): nothing changes.
Events: 'completed', 'retry' or 'failed'; none for a hand-back.
]]
--@include lib/tasks.lua

local t = { task = KEYS[1], parts = KEYS[2], unlocked = KEYS[3], expected = KEYS[10] }
local k = { processing = KEYS[4], released = KEYS[5], wake = KEYS[6], failed = KEYS[7], stats = KEYS[8], events = KEYS[9] }
local name, owner, outcome, error_text, retention, token = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]

if not held_claim(t.task, 'processing', owner, token) then return { 'TASK_LOST' } end
if outcome == 'failed' then return { 'OK', fail_attempt(k, t, name, error_text) } end
if outcome == 'returned' then
  end_claim(k.processing, t.task, name)
  redis.call('HSET', t.task, 'state', 'released')
  redis.call('LPUSH', k.released, name)
  redis.call('RPUSH', k.wake, '1')
  return { 'OK', 'released' }
end
end_claim(k.processing, t.task, name)
redis.call('HSET', t.task, 'state', 'completed', 'completedAt', now_ms())
redis.call('HINCRBY', k.stats, 'completed', 1)
-- the record stays for `retention` so the name is not reused by accident, then goes
redis.call('PEXPIRE', t.task, retention)
redis.call('DEL', t.parts, t.unlocked, t.expected)
emit(k, 'type', 'completed', 'task', name)
return { 'OK', 'completed' }
