--[[ queue/publish-many — add many jobs in one call; each behaves as queue/publish.
KEYS[1] available  KEYS[2] delayed  KEYS[3] wake  KEYS[4] seq  KEYS[5] finished  KEYS[6] failed
KEYS[7] events  KEYS[8] publish_listeners  KEYS[9..] the jobs' keys, in the order of the argument groups
ARGV: seven per job — id, data (JSON), priority, delay (ms), attempts, backoff (JSON), timeout (ms)
Reply: {'OK', result, result, …} — 'CREATED' or 'EXISTS' per job.
Events: 'publish' per created job, while KEYS[8] exists.
]]
--@include lib/clock.lua
--@include lib/queue.lua

local k = { available = KEYS[1], delayed = KEYS[2], wake = KEYS[3], seq = KEYS[4], finished = KEYS[5], failed = KEYS[6], events = KEYS[7] }
k.publish_events = redis.call('EXISTS', KEYS[8]) == 1
local reply = { 'OK' }
local markers = {}
for i = 0, (#ARGV / 7) - 1 do
  local a = i * 7
  local delay = tonumber(ARGV[a + 4])
  local result = publish_job(k, KEYS[9 + i], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], delay, ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], false)
  reply[#reply + 1] = result
  if result == 'CREATED' and delay <= 0 then markers[#markers + 1] = '1' end
end
-- one marker per job made available, pushed in one call
if #markers > 0 then redis.call('RPUSH', k.wake, unpack(markers)) end
return reply
