--[[ queue/publish — add a job, or find the unfinished job with that id (nothing changes then).
KEYS[1] job  KEYS[2] available  KEYS[3] delayed  KEYS[4] wake  KEYS[5] seq  KEYS[6] finished
KEYS[7] failed  KEYS[8] events  KEYS[9] publish_listeners (set while some process listens to 'publish')
ARGV[1] id  ARGV[2] data (JSON)  ARGV[3] priority  ARGV[4] delay (ms)  ARGV[5] attempts
ARGV[6] backoff (JSON: {delay, factor, max})  ARGV[7] timeout (ms, 0 = none)
Reply: {'OK', 'CREATED'} or {'OK', 'EXISTS', state}. A finished or failed job with the same id
       is replaced by the new one.
Events: 'publish', while KEYS[9] exists.
]]
--@include lib/clock.lua
--@include lib/queue.lua

local k = { available = KEYS[2], delayed = KEYS[3], wake = KEYS[4], seq = KEYS[5], finished = KEYS[6], failed = KEYS[7], events = KEYS[8] }
k.publish_events = redis.call('EXISTS', KEYS[9]) == 1
local job = KEYS[1]
local id, data, priority, delay, attempts, backoff, timeout = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7]

local result, state = publish_job(k, job, id, data, priority, delay, attempts, backoff, timeout, true)
if result == 'EXISTS' then return { 'OK', 'EXISTS', state } end
return { 'OK', 'CREATED' }
