--[[ queue/inspect — consistent reads: one job, or the queue's counts.
KEYS[1] job  KEYS[2] available  KEYS[3] claimed  KEYS[4] stalled  KEYS[5] delayed  KEYS[6] finished
KEYS[7] failed  KEYS[8] paused
ARGV[1] 'job' or 'stats'  ARGV[2] base (optional, 'stats': also read the head job, '<base>:job:<id>')
Reply: 'job': {'OK', fields (flat)}; 'stats': {'OK', available, claimed, stalled, delayed, finished, failed, paused},
       with a base followed by headReadyAt, now — since when the job at the head of `available`
       (the next one claimed) has been available (server ms; -1 when none, or when its hash is not on
       this node: during a Cluster slot migration it may have moved already, and a read must not fail
       for that), and the server time.
Events: none.
]]
--@include lib/clock.lua

if ARGV[1] == 'job' then return { 'OK', redis.call('HGETALL', KEYS[1]) } end
local reply = { 'OK', redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3]), redis.call('ZCARD', KEYS[4]),
  redis.call('ZCARD', KEYS[5]), redis.call('ZCARD', KEYS[6]), redis.call('ZCARD', KEYS[7]), redis.call('EXISTS', KEYS[8]) }
if not ARGV[2] then return reply end
local head_ready_at = -1
local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if head then
  local f = redis.pcall('HMGET', ARGV[2] .. ':job:' .. head, 'availableAt', 'createdAt')
  if not f.err then head_ready_at = tonumber(f[1]) or tonumber(f[2]) or -1 end
end
reply[9], reply[10] = head_ready_at, now_ms()
return reply
